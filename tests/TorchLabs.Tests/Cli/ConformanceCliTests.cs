using TorchLabs.Tests.Reliability;

namespace TorchLabs.Tests.Cli;

/// <summary>#28: `torchlabs conformance` and `conformance optimizer NAME --set KEY=VALUE`.</summary>
[Collection(TorchSharpSteps.Name)]
public class ConformanceCliTests
{
    [Trait("Speed", "Slow")]
    [Fact]
    public void Optimizer_Json_HasTheKeys_AndFlagsRAdamsDifference()
    {
        using var doc = TestEnvironment.InProcessJson(
            "conformance",
            "optimizer",
            "radam",
            "--set",
            "lr=0.05",
            "--set",
            "betas=0.85,0.99",
            "--steps",
            "12",
            "--format",
            "json"
        );
        var r = doc.RootElement;
        Assert.Equal("RAdam", r.GetProperty("optimizer").GetString());
        Assert.Equal(0.05, r.GetProperty("settings").GetProperty("lr").GetDouble());
        Assert.Equal(13, r.GetProperty("trajectory").GetArrayLength());
        Assert.Equal(13, r.GetProperty("reference").GetArrayLength());
        Assert.Equal([3.0, -2.0], r.GetProperty("reference")[0].EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(6, r.GetProperty("firstDifferentStep").GetInt32());
        Assert.Contains("RAdam.cs line 182", r.GetProperty("knownDifference").GetString());
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Optimizer_Agreeing_HasNoDifference()
    {
        using var doc = TestEnvironment.InProcessJson(
            "conformance",
            "optimizer",
            "ADAMW",
            "--set",
            "lr=0.05",
            "--set",
            "amsgrad=true",
            "--set",
            "weight_decay=0.2",
            "--start",
            "1.5,0.5",
            "--steps",
            "30",
            "--format",
            "json"
        );
        var r = doc.RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("firstDifferentStep").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("knownDifference").ValueKind);
        Assert.True(r.GetProperty("maxRelDifference").GetDouble() < 1e-12);
        Assert.True(r.GetProperty("settings").GetProperty("amsgrad").GetBoolean());
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void DuplicateSetKey_IsOneLine_ExitTwo_InJsonToo()
    {
        var r = TestEnvironment.RunInProcess(
            "conformance",
            "optimizer",
            "sgd",
            "--set",
            "lr=0.1",
            "--set",
            "lr=0.2",
            "--format",
            "json"
        );
        TestEnvironment.OneLine(r, 2, "--set lr: given twice");
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("foo", "lr=1", "unknown; expected one of SGD, Adam")]
    [InlineData("adam", "gamma=2", "Adam has no keyword \"gamma\"; expected one of lr, betas")]
    [InlineData("adam", "betas=0.9", "expected two finite numbers A,B")]
    [InlineData("adam", "betas=0.9,1.5", "expected each in [0, 1)")]
    [InlineData("sgd", "momentum=0.9", "SGD: --set lr=VALUE is required")]
    [InlineData("adagrad", "maximize=true", "TorchSharp 0.107's Adagrad lacks maximize")]
    [InlineData("rmsprop", "centered=maybe", "expected true or false")]
    public void BadSettings_AreOneLine_ExitTwo(string name, string set, string expected)
    {
        var r = TestEnvironment.RunInProcess("conformance", "optimizer", name, "--set", set);
        TestEnvironment.OneLine(r, 2, expected);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Grid_Json_OneRowPerComponent_RAdamMultiStepLRAndCyclicLRDiffer()
    {
        var r = TestEnvironment.RunInProcess("conformance", "--format", "json");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}; stdout: {r.StdOut}; stderr: {r.StdErr}");
        using var doc = TestEnvironment.Json(r);
        var rows = doc.RootElement.GetProperty("optimizers").EnumerateArray().ToList();
        Assert.Equal(11, rows.Count);
        Assert.Equal(
            ["RAdam"],
            rows.Where(x => x.GetProperty("verdict").GetString() != "agrees")
                .Select(x => x.GetProperty("component").GetString())
        );
        var schedulers = doc.RootElement.GetProperty("schedulers").EnumerateArray().ToList();
        Assert.Equal(14, schedulers.Count);
        Assert.Equal(
            ["MultiStepLR", "CyclicLR"],
            schedulers
                .Where(x => x.GetProperty("verdict").GetString() != "agrees")
                .Select(x => x.GetProperty("component").GetString())
        );
    }
}

/// <summary>#28: `torchlabs conformance scheduler NAME --set KEY=VALUE`.</summary>
[Collection(TorchSharpSteps.Name)]
public class SchedulerConformanceCliTests
{
    [Trait("Speed", "Slow")]
    [Fact]
    public void Scheduler_Json_FlagsCyclicLRsMomentum_WithTheKeys()
    {
        using var doc = TestEnvironment.InProcessJson(
            "conformance",
            "scheduler",
            "cycliclr",
            "--set",
            "base_lr=0.01",
            "--set",
            "max_lr=0.1",
            "--set",
            "step_size_up=4",
            "--momentum",
            "0.9",
            "--steps",
            "9",
            "--format",
            "json"
        );
        var r = doc.RootElement;
        Assert.Equal("CyclicLR", r.GetProperty("scheduler").GetString());
        Assert.Equal("0.01", r.GetProperty("settings").GetProperty("base_lr").GetString());
        Assert.Equal(10, r.GetProperty("lr").GetArrayLength());
        // down to base_momentum at the peak of lr
        Assert.Equal(0.8, r.GetProperty("referenceMomentum")[4].GetDouble(), 12);
        Assert.Equal(1.0, r.GetProperty("momentum")[4].GetDouble(), 12); // TorchSharp's: up to 2·max − base
        Assert.Equal(1, r.GetProperty("firstDifferentStep").GetInt32());
        Assert.Contains("line 961-963", r.GetProperty("knownDifference").GetString());
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Scheduler_Agreeing_ReduceLROnPlateauOnGivenMetrics()
    {
        using var doc = TestEnvironment.InProcessJson(
            "conformance",
            "scheduler",
            "ReduceLROnPlateau",
            "--set",
            "patience=0",
            "--set",
            "factor=0.5",
            "--metrics",
            "3,2,2,2,1,1",
            "--steps",
            "6",
            "--format",
            "json"
        );
        var r = doc.RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("firstDifferentStep").ValueKind);
        Assert.Equal(
            [0.1, 0.1, 0.1, 0.05, 0.025, 0.025, 0.0125],
            r.GetProperty("referenceLr").EnumerateArray().Select(v => v.GetDouble())
        );
        Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("referenceMomentum").ValueKind);
    }

    /// <summary>OneCycleLR on SGD with momentum 0: PyTorch 1.13 takes it and cycles the momentum from 0.95
    /// (base_momentum 0.85 and max_momentum 0.95 overwrite the 0). The numbers are PyTorch's: SGD([p], lr=0.1,
    /// momentum=0), OneCycleLR(max_lr=0.1, total_steps=10), the first five param_groups[0] lr and momentum.</summary>
    [Trait("Speed", "Slow")]
    [Fact]
    public void OneCycleLR_OnSgdWithoutMomentum_CyclesTheMomentumAsPyTorchDoes()
    {
        using var doc = TestEnvironment.InProcessJson(
            "conformance",
            "scheduler",
            "OneCycleLR",
            "--set",
            "max_lr=0.1",
            "--set",
            "total_steps=10",
            "--momentum",
            "0",
            "--steps",
            "4",
            "--format",
            "json"
        );
        var r = doc.RootElement;
        double[] pyTorchLr =
        [
            0.0040000000000000036,
            0.052000000000000005,
            0.1,
            0.09504846320134738,
            0.0811745653949763,
        ];
        double[] pyTorchMomentum = [0.95, 0.8999999999999999, 0.85, 0.854951556604879, 0.8688255099070633];
        Assert.Equal(pyTorchLr, r.GetProperty("lr").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(pyTorchMomentum, r.GetProperty("momentum").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("firstDifferentStep").ValueKind);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("nosuch", "unknown; expected one of StepLR")]
    [InlineData("steplr", "StepLR: --set step_size=VALUE is required")]
    [InlineData("multisteplr", "MultiStepLR: --set milestones=VALUE is required")]
    public void BadSchedulerInput_IsOneLine_ExitTwo(string name, string expected)
    {
        var r = TestEnvironment.RunInProcess("conformance", "scheduler", name);
        TestEnvironment.OneLine(r, 2, expected);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("--set", "mode=median", "expected one of min, max")]
    [InlineData("--set", "gamma=2", "ReduceLROnPlateau has no keyword \"gamma\"")]
    [InlineData("--metrics", "1,x", "expected finite numbers separated by commas")]
    public void BadPlateauSettings_AreOneLine_ExitTwo(string option, string value, string expected)
    {
        var r = TestEnvironment.RunInProcess("conformance", "scheduler", "reducelronplateau", option, value);
        TestEnvironment.OneLine(r, 2, expected);
    }
}
