using System.Text.Json.Nodes;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Reliability;

/// <summary>The same seed and thread count give the same output, byte for byte, from every lab (each run
/// twice).</summary>
public class DeterminismTests
{
    /// <summary>Wall-clock fields, the only ones allowed to differ between two runs.</summary>
    // wall clock, and the .pth path in each run's own --out
    static readonly string[] TimingKeys = ["seconds", "epochSeconds", "pthPath"];

    static string WithoutTiming(string stdout)
    {
        var node = JsonNode.Parse(stdout);
        void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (string k in TimingKeys)
                    o.Remove(k);
                foreach (var kv in o.ToList())
                    Strip(kv.Value);
            }
            else if (n is JsonArray a)
                foreach (var item in a)
                    Strip(item);
        }
        Strip(node);
        return node!.ToJsonString();
    }

    public static TheoryData<string> Labs() =>
        new()
        {
            "gradcheck all --format json",
            "optimizers --steps 200 --format json",
            "optimizers --optimizer nesterov --nesterov-form lookahead --impl reference --steps 50 --format json",
            "vanishing --depth 12 --width 8 --train-depths 6 --steps 20 --format json",
            "histograms --activation relu --format json",
            "fashion-mnist --train 300 --test 100 --epochs 2 --format json",
            "vector-backprop --dims 40,5,3,1 --m 20 --iterations 200 --format json",
            "regression",
            "perceptron",
            "errata",
            "info --format json",
        };

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(Labs))]
    public void SameSeed_SameOutput(string command)
    {
        string[] args = [.. command.Split(' '), "--seed", "5", "--threads", "1"];
        if (
            command.StartsWith("info", StringComparison.Ordinal)
            || command.StartsWith("vector-backprop", StringComparison.Ordinal)
        )
            args = [.. command.Split(' '), "--threads", "1"];
        if (
            !command.StartsWith("info", StringComparison.Ordinal)
            && !command.StartsWith("gradcheck", StringComparison.Ordinal)
            && !command.StartsWith("optimizers", StringComparison.Ordinal)
            && !command.StartsWith("histograms", StringComparison.Ordinal)
            && !command.StartsWith("vector", StringComparison.Ordinal)
        )
            args = [.. args, "--out", TestEnvironment.NewTempDir()];
        // One run in this process, one in a process of its own (a draw that depended on the process would show); info
        // names the process's allocator, so both of its runs are processes.
        var a = command.StartsWith("info", StringComparison.Ordinal)
            ? TestEnvironment.RunCli(args)
            : TestEnvironment.RunInProcess(args);
        var b = TestEnvironment.RunCli(args);
        Assert.True(a.ExitCode == 0, a.StdErr);
        Assert.NotEmpty(a.StdOut);
        if (command.Contains("--format json"))
            Assert.Equal(WithoutTiming(a.StdOut), WithoutTiming(b.StdOut));
        else
            Assert.Equal(a.StdOut, b.StdOut);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cifar10_SameSeed_SameJson()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 24, test: 12, seed: 9);
        string[] args =
        [
            "cifar10",
            "--data",
            data,
            "--epochs",
            "2",
            "--log-every",
            "3",
            "--seed",
            "5",
            "--threads",
            "1",
            "--format",
            "json",
        ];
        // in process; b in its own
        var a = TestEnvironment.RunInProcess([.. args, "--out", TestEnvironment.NewTempDir()]);
        var b = TestEnvironment.RunCli([.. args, "--out", TestEnvironment.NewTempDir()]);
        Assert.True(a.ExitCode == 0, a.StdErr);
        // modelPath names each run's own --out folder; everything else is the same.
        Assert.Equal(
            WithoutTiming(a.StdOut).Replace(JsonNode.Parse(a.StdOut)!["modelPath"]!.ToString(), "M"),
            WithoutTiming(b.StdOut).Replace(JsonNode.Parse(b.StdOut)!["modelPath"]!.ToString(), "M")
        );
    }
}
