namespace TorchLabs.Tests.Examples;

/// <summary>Every program in examples/ runs with `dotnet run examples/NAME.cs` and exits as documented, so the examples
/// cannot rot.</summary>
public class ExamplesTests
{
    public static TheoryData<string, int, string> Examples() =>
        new()
        {
            { "softmax_cross_entropy.cs", 0, "gradcheck and gradgradcheck passed" },
            { "layer_norm.cs", 0, "gradcheck passed" },
            { "conv1d.cs", 0, "gradcheck and gradgradcheck passed" },
            { "wrong_backward.cs", 1, "Jacobian mismatch for output 0 with respect to input 0" },
            { "module_check.cs", 0, "fc2.weight: Jacobian mismatch for output 0 with respect to input 4," },
            { "search_region.cs", 0, "input 0 = [0, 0, -2]" },
        };

    [Fact]
    public void EveryExample_IsListedHere()
    {
        var files = Directory
            .GetFiles(Path.Combine(TestEnvironment.RepoRoot, "examples"), "*.cs")
            .Select(Path.GetFileName)
            .Order();
        Assert.Equal(Examples().Select(row => (string)row[0]).Order(), files);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_RunsWithItsExpectedExitCode(string file, int exitCode, string expected)
    {
        var r = TestEnvironment.Run(
            "dotnet",
            ["run", Path.Combine("examples", file)],
            TestEnvironment.RepoRoot,
            timeoutMs: 600_000
        );
        Assert.True(r.ExitCode == exitCode, $"{file}: exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        Assert.Contains(expected, r.StdOut + r.StdErr);
    }
}
