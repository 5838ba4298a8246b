using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchLabs.Reference;
using static TorchSharp.torch;

// In-process: the benchmarks run in this process, whose output folder has the patched libLibTorchSharp.so.
var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
BenchmarkSwitcher
    .FromAssembly(typeof(OptimizerStepBench).Assembly)
    .Run(args.Length == 0 ? ["--filter", "*"] : args, config);

/// <summary>One Adam step on the CIFAR-10 tutorial Net's parameters: the hand optimizer against TorchSharp's
/// optim.Adam.</summary>
[MemoryDiagnoser]
public class OptimizerStepBench
{
    HandOptimizer? hand;
    optim.Optimizer? builtIn;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var a = new CifarNet(new Generator(1));
        var b = new CifarNet(new Generator(1));
        foreach (var p in a.parameters().Concat(b.parameters()))
            p.grad = ones_like(p) * 0.01;
        hand = new Adam(a.parameters(), 0.001);
        builtIn = optim.Adam(b.parameters(), 0.001);
    }

    [Benchmark(Baseline = true)]
    public void TorchSharpAdam() => builtIn!.step();

    [Benchmark]
    public void HandAdam() => hand!.step();
}

/// <summary>The reference network's hot loops: one forward and one full step of notes 004's first layer
/// shapes.</summary>
[MemoryDiagnoser]
public class ReferenceBench
{
    VectorNetwork? net;
    double[] x = [],
        y = [];
    const int M = 200;

    [GlobalSetup]
    public void Setup()
    {
        var (X, Y, W, B, _) = VectorBackpropLab.Data(new VectorBackpropOptions());
        net = new VectorNetwork([12288, 20, 7, 5, 1], W, B);
        x = X;
        y = Y;
    }

    [Benchmark]
    public double Forward() => net!.Forward(x, M).A[^1][0];

    [Benchmark]
    public double Step() => net!.Step(x, y, M, 0.0, 0.0);
}

/// <summary>
/// The tutorial Net's forward and backward at the tutorial's batch of 4, one thread: the opt-in hand step
/// (Fast/CifarNetFastStep: conv1, the pools and the head as loops, conv2 through libtorch) against the default,
/// autograd through the module forward.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBench
{
    CifarNet? net;
    TorchLabs.Fast.CifarNetFastStep? fast;
    Tensor? x,
        y;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var gen = new Generator(1);
        net = new CifarNet(gen);
        fast = new TorchLabs.Fast.CifarNetFastStep(net);
        x = randn([4, 3, 32, 32], generator: gen).DetachFromDisposeScope();
        y = randint(0, 10, [4], generator: gen).DetachFromDisposeScope();
    }

    [Benchmark(Baseline = true)]
    public void Autograd()
    {
        using var scope = NewDisposeScope();
        net!.zero_grad();
        nn.functional.cross_entropy(net.call(x!), y!).backward();
    }

    [Benchmark]
    public float HandStep()
    {
        using var scope = NewDisposeScope();
        net!.zero_grad();
        return fast!.LossBackward(x!, y!);
    }
}

/// <summary>
/// GradCheck on a 1,000-input, 100-output function, y = tanh(W x) with W 100 × 1000 fixed: the slow check (whole
/// Jacobian, 2,000 evaluations and 200 backward passes) against fast mode (vᵀJu: 2 evaluations, 2 backward passes). The
/// PyTorch peer, same sizes: scripts/bench/gradcheck.py. One libtorch thread.
/// </summary>
public class GradCheckBench
{
    Tensor W = null!,
        x = null!;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var gen = new Generator(1);
        W = randn([100, 1000], ScalarType.Float64, generator: gen) / Math.Sqrt(1000);
        x = randn([1000], ScalarType.Float64, generator: gen).requires_grad_(true);
    }

    Tensor[] F(Tensor[] v) => [matmul(W, v[0]).tanh()];

    [Benchmark(Baseline = true)]
    public bool Slow() => TorchLabs.Gradients.GradCheck.Check(F, [x]).Pass;

    [Benchmark]
    public bool Fast() =>
        TorchLabs.Gradients.GradCheck.Check(F, [x], new TorchLabs.Gradients.GradCheckOptions { FastMode = true }).Pass;
}
