using System.Text.Json;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Cli;

/// <summary>
/// The command-line convention, walked over every sub-command of the root (so a new lab cannot miss it): `--format
/// json` prints one parseable JSON object and nothing else on stdout, and an existing file given as `--out` is bad
/// input (exit 2, one line on stderr, no stack trace, nothing on stdout) caught before any work.
/// </summary>
public class ConventionTests
{
    static readonly Lazy<string> Cifar = new(() =>
    {
        string root = TestEnvironment.NewTempDir("torchlabs-walk-cifar");
        SyntheticCifar.WriteFolder(root, 8, 8, seed: 5);
        return root;
    });

    static readonly Lazy<string> Png = new(() =>
    {
        string path = Path.Combine(TestEnvironment.NewTempDir("torchlabs-walk-png"), "one.png");
        using var bmp = new SkiaSharp.SKBitmap(32, 32);
        bmp.Erase(new SkiaSharp.SKColor(200, 40, 40));
        using var data = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    });

    /// <summary>Small options that make each command quick; every sub-command must have a row.</summary>
    static string[] SmallArgs(string command) =>
        command switch
        {
            "all" => ["--only", "info", "perceptron"],
            "info" => [],
            "cifar10" => ["--data", Cifar.Value, "--epochs", "1"],
            "gradcheck" => ["mlp-l2"],
            "predict" => ["--model", Path.Combine(AppContext.BaseDirectory, "Golden", "cifar_net.pth"), Png.Value],
            "optimizers" => ["--steps", "10"],
            "vanishing" => ["--depth", "3", "--width", "4", "--train-depths", "3", "--steps", "3"],
            "histograms" => ["--activation", "tanh", "--init", "xavier"],
            "fashion-mnist" => ["--optimizer", "sgd", "--epochs", "1", "--train", "64", "--test", "32"],
            "vector-backprop" =>
            [
                "--rng",
                "torch",
                "--dims",
                "12,4,1",
                "--m",
                "8",
                "--iterations",
                "3",
                "--print-every",
                "1",
            ],
            "bench" => ["optimizer-step", "--optimizer", "sgd", "--impl", "hand", "--steps", "3"],
            "regression" or "perceptron" or "errata" or "conformance" => [],
            "sweep" => ["optimizers", "--seeds", "1", "--grid", "steps=10"],
            _ => throw new KeyNotFoundException(
                $"{command}: a new sub-command needs a row in ConventionTests.SmallArgs"
            ),
        };

    /// <summary>The command run in this process, except a sweep: its trials run this program, and the test host is not
    /// it.</summary>
    static TestEnvironment.ProcessResult Run(string[] args) =>
        args[0] == "sweep" ? TestEnvironment.RunCli(args) : TestEnvironment.RunInProcess(args);

    static IEnumerable<System.CommandLine.Command> Commands() => TorchLabs.Cli.Cli.BuildRoot().Subcommands;

    public static TheoryData<string> AllCommands()
    {
        var d = new TheoryData<string>();
        foreach (var c in Commands())
            d.Add(c.Name);
        return d;
    }

    public static TheoryData<string> CommandsWithOut()
    {
        var d = new TheoryData<string>();
        foreach (var c in Commands().Where(c => c.Options.Any(o => o.Name == "--out")))
            d.Add(c.Name);
        return d;
    }

    [Fact]
    public void Walk_CoversEveryCommand_AndEveryCommandTakesFormat()
    {
        foreach (var c in Commands())
        {
            _ = SmallArgs(c.Name);
            Assert.True(c.Options.Any(o => o.Name == "--format"), $"{c.Name} has no --format option");
        }
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(AllCommands))]
    public void FormatJson_PrintsOneJsonObject(string command)
    {
        string outDir = TestEnvironment.NewTempDir("torchlabs-walk-out");
        var c = Commands().Single(x => x.Name == command);
        string[] outArgs = c.Options.Any(o => o.Name == "--out") ? ["--out", outDir] : [];
        var r = Run([command, .. SmallArgs(command), .. outArgs, "--format", "json", "--threads", "1"]);
        Assert.True(r.ExitCode == 0, $"{command}: exit {r.ExitCode}: {r.StdErr}");
        using var doc = JsonDocument.Parse(r.StdOut); // throws on anything but one JSON value
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(CommandsWithOut))]
    public void OutIsAnExistingFile_ExitsTwoWithOneLine_BeforeAnyWork(string command)
    {
        string file = Path.Combine(TestEnvironment.NewTempDir(), "afile");
        File.WriteAllText(file, "not a folder");
        var r = Run([command, .. SmallArgs(command), "--out", file, "--threads", "1"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.StdOut);
        string line = Assert.Single(r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--out {file}: is a file", line);
        Assert.DoesNotContain("   at ", r.StdErr);
        Assert.Equal("not a folder", File.ReadAllText(file));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Json_NonFiniteNumbers_AreNull_InEveryCommand()
    {
        // Regression's unregularised fits have ln λ = −∞: written null, the one rule for NaN and ±∞.
        var r = TestEnvironment.RunInProcess("regression", "--format", "json", "--out", TestEnvironment.NewTempDir());
        using var doc = TestEnvironment.Json(r);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("byOrder")[0].GetProperty("lnLambda").ValueKind);
        Assert.DoesNotContain("Infinity", r.StdOut);
        Assert.DoesNotContain("NaN", r.StdOut);
    }
}
