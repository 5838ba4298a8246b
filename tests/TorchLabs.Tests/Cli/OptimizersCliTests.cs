using System.Text.Json;

namespace TorchLabs.Tests.Cli;

public class OptimizersCliTests
{
    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("hand")]
    [InlineData("torch")]
    [InlineData("reference")]
    public void Json_OneTrajectory_HasStartFirstAndNPlusOnePoints(string impl)
    {
        var r = TestEnvironment.RunInProcess(
            "optimizers",
            "--optimizer",
            "rmsprop",
            "--impl",
            impl,
            "--lr",
            "0.05",
            "--alpha",
            "0.8",
            "--start",
            "3.5,-2",
            "--steps",
            "10",
            "--format",
            "json",
            "--threads",
            "1"
        );
        using var doc = TestEnvironment.Json(r);
        var root = doc.RootElement;
        Assert.Equal(["optimizer", "impl", "trajectory", "loss"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("rmsprop", root.GetProperty("optimizer").GetString());
        Assert.Equal(impl, root.GetProperty("impl").GetString());
        var traj = root.GetProperty("trajectory");
        Assert.Equal(11, traj.GetArrayLength());
        Assert.Equal(3.5, traj[0][0].GetDouble());
        Assert.Equal(-2, traj[0][1].GetDouble());
        Assert.Equal(3.5 * 3.5 / 20 + 4, root.GetProperty("loss")[0].GetDouble(), 15);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("--start", "1")]
    [InlineData("--start", "a,b")]
    [InlineData("--start", "1,NaN")]
    [InlineData("--optimizer", "lbfgs")]
    [InlineData("--lr", "NaN")]
    [InlineData("--lr", "0")]
    [InlineData("--steps", "-1")]
    [InlineData("--beta2", "1")]
    [InlineData("--impl", "numpy")]
    public void BadInput_ExitsTwoWithOneLineNamingTheOption(string option, string value)
    {
        string[] args =
            option == "--optimizer"
                ? ["optimizers", option, value, "--steps", "2"]
                : ["optimizers", "--optimizer", "adam", "--steps", "2", option, value];
        var r = TestEnvironment.RunInProcess(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains(option == "--impl" ? "numpy" : option, r.StdErr);
        Assert.Equal("", r.StdOut);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Race_Json_ReportsAllSixAgreeingWithTorchOptim()
    {
        var r = TestEnvironment.RunInProcess(
            "optimizers",
            "--steps",
            "300",
            "--seed",
            "9",
            "--format",
            "json",
            "--threads",
            "1"
        );
        using var doc = TestEnvironment.Json(r);
        var race = doc.RootElement.GetProperty("race");
        Assert.Equal(6, race.GetArrayLength());
        foreach (var row in race.EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Null, row.GetProperty("handDisagreesAtStep").ValueKind);
            Assert.Equal(JsonValueKind.Null, row.GetProperty("referenceDisagreesAtStep").ValueKind);
        }
        Assert.True(doc.RootElement.GetProperty("nesterovFormsMaxRelError").GetDouble() < 1e-9);
    }
}
