using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchLabs.Runtime;
using TorchLabs.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Models;

/// <summary>
/// The batch split into two lanes (<see cref="CifarNetLanes"/>): the whole batch's loss and gradients to float32 rounding of
/// float64 autograd, the same numbers bit for bit whether the lanes run at once or in turn, odd batches, errors from the
/// second lane, and cifar10's --lanes (default, checkpoint setting, bad value).
/// </summary>
public class CifarNetLanesTests
{
    // The whole batch's loss and gradients against float64 autograd: ClassifierHeadTests.Close (float32 rounding of the longest sum).
    static void Close(Tensor exact, Tensor hand, string what) => Gradients.ClassifierHeadTests.Close(exact, hand, what);

    /// <summary>L and the batch gradient g + g₂ (the step adds the replica's buffer to the parameters' .grad; a learning rate of 0 leaves θ).</summary>
    static (float Loss, Tensor[] Gradients) LanesStep(int seed, int N, bool concurrent)
    {
        using var gen = new Generator((ulong)seed);
        var net = new CifarNet(gen);
        var x = randn([N, 3, 32, 32], generator: gen);
        var y = randint(0, 10, [N], generator: gen);
        using var opt = new FlatSgd([.. net.parameters()], 1e-30, 0.9);
        using var lanes = new CifarNetLanes(net, opt, 2, concurrent);
        opt.zero_grad();
        float loss = lanes.LossBackward(x, y);
        opt.step();
        return (loss, net.parameters().Select(p => p.grad!.detach().clone().DetachFromDisposeScope()).ToArray());
    }

    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(2)]
    public void TwoLanes_BatchLossAndGradients_WithinFloat32RoundingOfFloat64Autograd(int N)
    {
        using var scope = NewDisposeScope();
        var (loss, grads) = LanesStep(20 + N, N, concurrent: true);
        using var gen = new Generator((ulong)(20 + N));
        var net = new CifarNet(gen);
        var x = randn([N, 3, 32, 32], generator: gen);
        var y = randint(0, 10, [N], generator: gen);
        net.to(ScalarType.Float64);
        var exact = nn.functional.cross_entropy(net.ForwardAsTutorial(x.to(ScalarType.Float64)), y);
        exact.backward();
        Close(exact.detach(), tensor(loss), "L");
        var ps = net.parameters().ToList();
        for (int k = 0; k < ps.Count; k++) Close(ps[k].grad!, grads[k], $"parameter {k}");
    }

    [Fact]
    public void TwoLanes_AtOnceOrInTurn_SameNumbersBitForBit()
    {
        using var scope = NewDisposeScope();
        var (l1, g1) = LanesStep(31, 4, concurrent: true);
        var (l2, g2) = LanesStep(31, 4, concurrent: false);
        Assert.Equal(l1, l2);
        for (int k = 0; k < g1.Length; k++) Assert.Equal(g1[k].data<float>().ToArray(), g2[k].data<float>().ToArray());
    }

    [Fact]
    public void TwoLanes_Training_AtOnceOrInTurn_SameParametersBitForBit_AndCloseToOneLane()
    {
        using var scope = NewDisposeScope();
        (float[] Losses, float[][] Parameters) Train(int lanesCount, bool concurrent)
        {
            using var gen = new Generator(3);
            var net = new CifarNet(gen);
            using var opt = new FlatSgd([.. net.parameters()], 0.01, 0.9);
            using var lanes = new CifarNetLanes(net, opt, lanesCount, concurrent);
            var losses = new float[30];
            for (int t = 0; t < losses.Length; t++)
            {
                using var step = NewDisposeScope();
                var x = randn([4, 3, 32, 32], generator: gen);
                var y = randint(0, 10, [4], generator: gen);
                opt.zero_grad();
                losses[t] = lanes.LossBackward(x, y);
                opt.step();
            }
            return (losses, net.parameters().Select(p => p.detach().contiguous().data<float>().ToArray()).ToArray());
        }
        var atOnce = Train(2, true);
        var inTurn = Train(2, false);
        var one = Train(1, false);
        Assert.Equal(atOnce.Losses, inTurn.Losses);
        for (int k = 0; k < atOnce.Parameters.Length; k++) Assert.Equal(atOnce.Parameters[k], inTurn.Parameters[k]);
        for (int t = 0; t < one.Losses.Length; t++)
            Assert.True(Math.Abs(one.Losses[t] - atOnce.Losses[t]) <= 1e-5 * Math.Abs(one.Losses[t]), $"step {t}: one lane {one.Losses[t]}, two lanes {atOnce.Losses[t]}");
    }

    [Fact]
    public void SecondLaneError_ReachesTheCaller_AndTheLanesStillWork()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(4);
        var net = new CifarNet(gen);
        using var opt = new FlatSgd([.. net.parameters()], 0.01, 0.9);
        using var lanes = new CifarNetLanes(net, opt, 2, concurrent: true);
        var x = randn([4, 3, 32, 32], generator: gen);
        var e = Assert.Throws<ArgumentException>(() => lanes.LossBackward(x, tensor(new long[] { 1, 2, 3, 10 })));   // label 10 is in lane 2
        Assert.Equal("label 10 is outside the 10 classes [0, 9]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lanes.LossBackward(x, tensor(new long[] { -1, 2, 3, 11 })));     // both lanes fail: lane 1's is reported,
        Assert.Equal("label -1 is outside the 10 classes [0, 9]", e.Message);                                       // after lane 2 has finished
        opt.zero_grad();
        Assert.True(float.IsFinite(lanes.LossBackward(x, tensor(new long[] { 1, 2, 3, 4 }))));
    }

    [Fact]
    public void OneExampleOrOneLane_IsTheNetsOwnStep()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(5);
        var net = new CifarNet(gen);
        using var opt = new FlatSgd([.. net.parameters()], 0.01, 0.9);
        var x = randn([1, 3, 32, 32], generator: gen);
        var y = tensor(new long[] { 7 });
        using var lanes = new CifarNetLanes(net, opt, 2, concurrent: true);
        Assert.Equal(net.LossBackward(x, y), lanes.LossBackward(x, y));
        Assert.Throws<UsageException>(() => new CifarNetLanes(net, opt, 3, true));
    }

    [Fact]
    public void LaneSchedule_KeepsTheFasterMode_AndFollowsAChangeOfLoad()
    {
        var s = new LaneSchedule();
        void Steps(int n, double atOnce, double inTurn) { for (int i = 0; i < n; i++) s.Record(s.AtOnce ? atOnce : inTurn); }
        Steps(2000, atOnce: 250, inTurn: 480);                        // quiet machine: at once is faster
        Assert.True(s.AtOnce);
        Assert.True(s.StepsInTurn <= 3 * LaneSchedule.Window, $"{s.StepsInTurn} steps in turn");   // one timing window, and a probe or two
        long before = s.StepsAtOnce;
        Steps(3000, atOnce: 1300, inTurn: 480);                       // another process on one core: at once is 4× slower
        Assert.False(s.AtOnce);
        Assert.True(s.StepsAtOnce - before <= (LaneSchedule.Stay + 2) * LaneSchedule.Window, $"{s.StepsAtOnce - before} slow steps before the switch");
        Steps(3000, atOnce: 250, inTurn: 480);                        // quiet again
        Assert.True(s.AtOnce);
        Assert.Equal(8000, s.StepsAtOnce + s.StepsInTurn);
    }

    [Fact]
    public void LaneWorker_RunsJobs_RethrowsErrors_SleepsWhenIdle_AndWakes()
    {
        using var worker = new LaneWorker("test-lane");
        int thread = 0;
        worker.Post(() => thread = Environment.CurrentManagedThreadId);
        worker.Wait();
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        worker.Post(() => throw new InvalidOperationException("lane failure"));
        Assert.Equal("lane failure", Assert.Throws<InvalidOperationException>(worker.Wait).Message);
        Thread.Sleep(LaneWorker.SpinLimit * 5);                // past the spin: the thread sleeps, and a job wakes it
        int ran = 0;
        worker.Post(() => ran = 1);
        worker.Wait();
        Assert.Equal(1, ran);
    }

    [Fact]
    public void CheckpointFromBeforeLanes_ResumesWithOneLane_NotWithTwo()
    {
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(1));
        using var opt = new FlatSgd([.. net.parameters()], 0.01, 0.9);
        var hooks = OptimizerHooks.For(opt);
        using var shuffle = new Generator(2);
        var old = new TrainingRecord { Settings = [new("--seed", "1")], LearningRate = 0.01, EpochsDone = 1 };   // no --lanes yet
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) old.Write(w, shuffle, net, hooks);
        var before = new Dictionary<string, string> { ["--lanes"] = "1" };
        TrainingRecord Read(string lanes)
        {
            stream.Position = 0;
            using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            return TrainingRecord.Read(r, "old.dat", [new("--seed", "1"), new("--lanes", lanes)], false, shuffle, net, hooks, before);
        }
        Assert.Equal(1, Read("1").EpochsDone);
        var e = Assert.Throws<UsageException>(() => Read("2"));
        Assert.Contains("--lanes 1 stored, 2 given", e.Message);
    }

    [Fact]
    public void Cifar10_Lanes_DefaultOne_TwoOnRequest_AndAResumeMustKeepThem()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 20, test: 10, seed: 8);
        string outDir = TestEnvironment.NewTempDir();
        var o = new Cifar10Options { DataDir = data, OutDir = outDir, Epochs = 1, LogEvery = 10, Seed = 3, LimitTrain = 40, LimitTest = 10 };
        Assert.Equal(1, o.Lanes);
        var r = Cifar10Lab.Run(o with { Lanes = 2 });
        Assert.Equal(10, r.LaneSteps.AtOnce + r.LaneSteps.InTurn);     // 40 images, batch 4
        var e = Assert.Throws<UsageException>(() => Cifar10Lab.Run(o with { Epochs = 2, Resume = true }));
        Assert.Contains("--lanes", e.Message);
        var bad = TestEnvironment.RunCli("cifar10", "--data", data, "--out", TestEnvironment.NewTempDir(), "--lanes", "3");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("torchlabs: --lanes 3: expected 1 or 2", bad.StdErr.Trim());
    }
}
