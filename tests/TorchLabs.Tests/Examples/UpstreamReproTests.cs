namespace TorchLabs.Tests.Examples;

/// <summary>
/// The minimal programs of docs/conformance.md's data-pipeline findings (examples/upstream): each C# program shows
/// TorchSharp's or TorchVision's answer and its Python twin PyTorch 1.13's, so that the difference an upstream report
/// carries is the one these programs print today.
/// </summary>
public class UpstreamReproTests
{
    public static TheoryData<string, string, string> Repros() =>
        new()
        {
            { "cifar10_scale", "byte 1 → 0.00390625, byte 255 → 0.99609375", "byte 1 → 0.00392156886, byte 255 → 1" },
            { "cifar10_count", "refused: InvalidDataException: Not a proper CIFAR10 file", "12 records" },
            {
                "normalize_one_image",
                "refused: ArgumentException: The number of channels",
                "shape [3, 32, 32], first 1.0"
            },
            { "dataloader_shuffle", "seed 1, epoch 3: 9 2 4 8 7 1 3 0 6 5", "epoch 1: 4 2 0 6 8 7 9 1 5 3" },
        };

    [Fact]
    public void EveryRepro_IsListedHere_WithItsPythonTwin()
    {
        string dir = Path.Combine(TestEnvironment.RepoRoot, "examples", "upstream");
        var names = Repros().Select(row => (string)row[0]).Order().ToList();
        Assert.Equal(names, Directory.GetFiles(dir, "*.cs").Select(Path.GetFileNameWithoutExtension).Order());
        Assert.Equal(names, Directory.GetFiles(dir, "*.py").Select(Path.GetFileNameWithoutExtension).Order());
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(Repros))]
    public void Repro_PrintsTorchSharpsAnswer_AndItsTwinPyTorchs(string name, string torchSharp, string pyTorch)
    {
        var cs = TestEnvironment.Run(
            "dotnet",
            ["run", Path.Combine("examples", "upstream", name + ".cs")],
            TestEnvironment.RepoRoot,
            timeoutMs: 600_000
        );
        Assert.True(cs.ExitCode == 0, $"{name}.cs: exit {cs.ExitCode}\n{cs.StdOut}\n{cs.StdErr}");
        Assert.Contains(torchSharp, cs.StdOut);
        var py = TestEnvironment.Run(
            "/usr/bin/python3",
            [Path.Combine("examples", "upstream", name + ".py")],
            TestEnvironment.RepoRoot
        );
        Assert.True(py.ExitCode == 0, $"{name}.py: exit {py.ExitCode}\n{py.StdOut}\n{py.StdErr}");
        Assert.Contains(pyTorch, py.StdOut);
    }
}
