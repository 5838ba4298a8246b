using TorchLabs.Labs;
using TorchLabs.Runtime;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Reliability;

/// <summary>Checkpoints and resume, divergence, and memory across epochs (one libtorch thread, as the tests
/// run).</summary>
public class CheckpointTests
{
    internal static Cifar10Options Options(string data, string outDir, int epochs) =>
        new()
        {
            DataDir = data,
            OutDir = outDir,
            Epochs = epochs,
            LogEvery = 10,
            Seed = 3,
            LimitTrain = 120,
            LimitTest = 40,
        };

    [Fact]
    public void Cifar10_TwoEpochsStraight_EqualsOneEpochThenResume_BitForBit()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 60, test: 40, seed: 4);
        string straight = TestEnvironment.NewTempDir(),
            resumed = TestEnvironment.NewTempDir();
        var a = Cifar10Lab.Run(Options(data, straight, 2));
        Cifar10Lab.Run(Options(data, resumed, 1));
        var b = Cifar10Lab.Run(Options(data, resumed, 2) with { Resume = true });
        Assert.Equal(a.Log, b.Log);
        Assert.Equal(a.LossCurve, b.LossCurve);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(straight, "cifar_net.dat")),
            File.ReadAllBytes(Path.Combine(resumed, "cifar_net.dat"))
        );
        Assert.Equal(a.Correct, b.Correct);
    }

    [Fact]
    public void Cifar10_Diverging_StopsNamingEpochAndStep_AndKeepsTheLastGoodCheckpoint()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 60, test: 20, seed: 5);
        string outDir = TestEnvironment.NewTempDir();
        Cifar10Lab.Run(Options(data, outDir, 1));
        string checkpoint = Path.Combine(outDir, Cifar10Lab.CheckpointName);
        byte[] good = File.ReadAllBytes(checkpoint);
        var e = Assert.Throws<LabFailedException>(() =>
            Cifar10Lab.Run(Options(data, outDir, 3) with { Resume = true, LearningRate = 1e30, Momentum = 0.9 })
        );
        Assert.Matches(
            @"training diverged: the loss is \S+ at epoch \d+, step \d+; try a smaller learning rate",
            e.Message
        );
        Assert.Contains("last good checkpoint", e.Message);
        Assert.Equal(good.Length > 0, File.Exists(checkpoint));
        var ranEpochs = System.Text.RegularExpressions.Regex.Match(e.Message, @"at epoch (\d+)").Groups[1].Value;
        if (ranEpochs == "2")
            Assert.Equal(good, File.ReadAllBytes(checkpoint)); // diverged in the first resumed epoch: untouched
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cifar10_Cli_DivergingLearningRate_ExitsOne()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 40, test: 10, seed: 6);
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--out",
            TestEnvironment.NewTempDir(),
            "--epochs",
            "3",
            "--lr",
            "10000",
            "--threads",
            "1"
        );
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("training diverged", r.StdErr);
        Assert.Contains("smaller learning rate", r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void Cifar10_ResumeWithoutCheckpoint_IsUsageError()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 20, test: 10, seed: 6);
        var e = Assert.Throws<UsageException>(() =>
            Cifar10Lab.Run(Options(data, TestEnvironment.NewTempDir(), 2) with { Resume = true })
        );
        Assert.Contains("no checkpoint", e.Message);
    }

    [Fact]
    public void Cifar10_CorruptCheckpoint_IsUsageError()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 20, test: 10, seed: 6);
        string outDir = TestEnvironment.NewTempDir();
        Cifar10Lab.Run(Options(data, outDir, 1));
        string checkpoint = Path.Combine(outDir, Cifar10Lab.CheckpointName);
        File.WriteAllBytes(checkpoint, File.ReadAllBytes(checkpoint)[..200]);
        var e = Assert.Throws<UsageException>(() => Cifar10Lab.Run(Options(data, outDir, 2) with { Resume = true }));
        Assert.Contains("corrupt or truncated checkpoint", e.Message);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void FashionMnist_TwoEpochsStraight_EqualsOneEpochThenResume()
    {
        string a = TestEnvironment.NewTempDir(),
            b = TestEnvironment.NewTempDir();
        FashionMnistOptions O(string dir, int epochs) =>
            new()
            {
                DataDir = TestEnvironment.NewTempDir(),
                Optimizers = ["adam", "sgd"],
                Epochs = epochs,
                Train = 600,
                Test = 100,
                OutDir = dir,
                Seed = 2,
            };
        var straight = FashionMnistLab.Run(O(a, 2));
        FashionMnistLab.Run(O(b, 1));
        var resumed = FashionMnistLab.Run(O(b, 2) with { Resume = true });
        foreach (string opt in new[] { "adam", "sgd" })
        {
            var x = straight.Runs.Single(r => r.Optimizer == opt);
            var y = resumed.Runs.Single(r => r.Optimizer == opt);
            Assert.Equal(x.TrainLoss, y.TrainLoss);
            Assert.Equal(x.TestAccuracy, y.TestAccuracy);
            Assert.Equal(
                File.ReadAllBytes(Path.Combine(a, $"checkpoint-{opt}.dat")),
                File.ReadAllBytes(Path.Combine(b, $"checkpoint-{opt}.dat"))
            );
        }
    }
}

/// <summary>The CIFAR-10 run's memory across epochs (one libtorch thread, as the tests run).</summary>
[Collection(ProcessMemory.Name)]
public class Cifar10MemoryTests
{
    [Trait("Speed", "Slow")]
    [Fact]
    public void Cifar10_LiveTensors_DoNotGrowAcrossEpochs()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 80, test: 20, seed: 7);
        var live = new List<long>();
        var memory = new List<long>();
        var rss = new List<long>();
        // Measured when the lab reports the first batch of epochs 2 to 5: each time one epoch more is done, and one
        // step.
        var atEpochStart = new TorchLabs.Cli.Commands.SyncProgress<string>(message =>
        {
            if (
                !message.Contains(", batch 1/", StringComparison.Ordinal)
                || message.StartsWith("epoch 1/", StringComparison.Ordinal)
            )
                return;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            live.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            memory.Add(GC.GetTotalMemory(true));
            rss.Add(System.Diagnostics.Process.GetCurrentProcess().WorkingSet64);
        });
        Cifar10Lab.Run(CheckpointTests.Options(data, TestEnvironment.NewTempDir(), 5), progress: atEpochStart);
        Assert.Equal(4, live.Count);
        Assert.True(live.Skip(1).All(v => v == live[1]), "live tensors per epoch: " + string.Join(", ", live));
        // The leak check is the live-tensor count above (deterministic). Managed memory after a forced collection still
        // follows the collector's heuristics (generations, the large-object heap): 119 → 136 → 136 → 153 MB was seen on
        // one machine with no leak, so it only has to stay within a headroom of 64 MB, far below a leak of the batches
        // (300 MB an epoch here).
        Assert.True(
            memory[^1] < memory[1] + 64L * 1024 * 1024,
            "managed memory per epoch: " + string.Join(", ", memory)
        );
        // Process memory (native libtorch included): no growth beyond allocator noise between the second and last
        // epoch.
        Assert.True(rss[^1] < rss[1] + 64L * 1024 * 1024, "resident memory per epoch: " + string.Join(", ", rss));
    }
}
