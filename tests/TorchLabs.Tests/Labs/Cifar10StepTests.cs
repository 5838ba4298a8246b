using TorchLabs.Checkpoints;
using TorchLabs.Data;
using TorchLabs.Fast;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Runtime;
using TorchLabs.Tests.Data;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Labs;

/// <summary>
/// The cifar10 training step: by default the tutorial's (modules, cross_entropy, loss.backward(), SGD), bit for bit
/// what TorchSharp's autograd and torch.optim.SGD give; the hand step only with --impl fast, recorded in the
/// checkpoint; checkpoints written with the retired --lanes resume when they had one lane and are refused in one line
/// when they had two.
/// </summary>
public class Cifar10StepTests
{
    static Cifar10Options Options(string data, string outDir) =>
        new()
        {
            DataDir = data,
            OutDir = outDir,
            Epochs = 1,
            LogEvery = 1,
            Seed = 6,
            LimitTrain = 40,
            LimitTest = 8,
        };

    [Fact]
    public void DefaultStep_IsTheTutorialsLoop_WithTorchOptimSgd_BitForBit()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 8, test: 8, seed: 7);
        var o = Options(data, TestEnvironment.NewTempDir());
        var lab = Cifar10Lab.Run(o);

        // The tutorial's loop, written out with TorchSharp's own optim.SGD: the script's draws (peek, Net(), the
        // epoch's order), the same batches.
        using var scope = NewDisposeScope();
        using var torchGenerator = new Generator((ulong)o.Seed);
        var (pixels, labels) = Cifar10.LoadTensor(Cifar10.Locate(data)!, train: true, o.LimitTrain);
        _ = Cifar10Loader.DrawOrder(labels.Length, shuffle: true, torchGenerator);
        var net = new CifarNet(torchGenerator);
        var optimizer = optim.SGD(net.parameters(), o.LearningRate, o.Momentum);
        using var batcher = new Cifar10Batcher(pixels, labels);
        long[] order = Cifar10Loader.DrawOrder(labels.Length, shuffle: true, torchGenerator);
        var losses = new List<double>();
        for (int start = 0; start < order.Length; start += o.BatchSize)
        {
            using var step = NewDisposeScope();
            var (inputs, targets) = batcher.Batch(order.AsSpan(start, Math.Min(o.BatchSize, order.Length - start)));
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(net.call(inputs), targets);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.Equal(losses, lab.LossCurve.Select(p => p.Loss));
    }

    [Fact]
    public void FastStep_AgreesToFloat32Rounding_AndIsRecordedInTheCheckpoint()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 8, test: 8, seed: 8);
        string outDir = TestEnvironment.NewTempDir();
        var autograd = Cifar10Lab.Run(Options(data, TestEnvironment.NewTempDir()));
        var fast = Cifar10Lab.Run(Options(data, outDir) with { Impl = "fast" });
        Assert.Equal(autograd.LossCurve.Count, fast.LossCurve.Count);
        for (int i = 0; i < fast.LossCurve.Count; i++)
            Assert.True(
                Math.Abs(fast.LossCurve[i].Loss - autograd.LossCurve[i].Loss) <= 1e-5 * autograd.LossCurve[i].Loss,
                $"step {i}: fast {fast.LossCurve[i].Loss}, autograd {autograd.LossCurve[i].Loss}"
            );
        var e = Assert.Throws<UsageException>(() =>
            Cifar10Lab.Run(Options(data, outDir) with { Epochs = 2, Resume = true })
        );
        Assert.Contains("--impl fast stored, torch given", TestEnvironment.AsShown(e));
        Assert.Equal(
            2,
            Cifar10Lab
                .Run(Options(data, outDir) with { Epochs = 2, Resume = true, Impl = "fast" })
                .LossCurve.Select(p => p.Epoch)
                .Max()
        );
        Assert.Throws<UsageException>(() =>
            new Cifar10Options
            {
                DataDir = "",
                OutDir = "",
                Impl = "lanes",
            }.Validate()
        );
    }

    /// <summary>Writes a checkpoint record with the given settings, then reads it back as cifar10 now reads its
    /// checkpoints (the settings of the lanes days were stored as flags, --lanes: read as ‹lanes›).</summary>
    static void WriteThenRead(KeyValuePair<string, string>[] stored)
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(2, 1);
        using var sgd = new FlatSgd([.. model.parameters()], 0.1, 0.9);
        var hooks = sgd.Hooks();
        using var shuffle = new Generator(1);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var rec = new TrainingRecord
            {
                Settings = stored,
                LearningRate = 0.1,
                EpochsDone = 1,
            };
            rec.EpochLoss.Add(2.3);
            rec.Write(w, shuffle, model, hooks);
        }
        stream.Position = 0;
        using var r = new BinaryReader(stream);
        TrainingRecord.Read(
            r,
            "checkpoint.dat",
            [new(Setting.Of("batch-size"), "4"), new(Setting.Of("impl"), "torch")],
            false,
            shuffle,
            model,
            hooks,
            before: new Dictionary<string, string> { [Setting.Of("impl")] = "torch" },
            retired: new Dictionary<string, string> { [Setting.Of("lanes")] = "1" }
        );
    }

    [Fact]
    public void CheckpointFromTheLanesDays_OneLaneResumes_TwoLanesAreRefusedInOneLine()
    {
        WriteThenRead([new("--batch-size", "4"), new("--lanes", "1")]);
        var e = Assert.Throws<UsageException>(() => WriteThenRead([new("--batch-size", "4"), new("--lanes", "2")]));
        Assert.Equal(
            "--resume: checkpoint.dat was made with --lanes 2, which TorchLabs no longer has (only --lanes 1 resumes); "
                + "train again without --resume",
            TestEnvironment.AsShown(e)
        );
        Assert.DoesNotContain('\n', e.Message);
    }
}
