using TorchLabs.Optimizers;
using System.Diagnostics;
using TorchLabs.Models;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Labs;

/// <summary>The C# side of the benchmark cases that scripts/bench/run.sh times against Python peers.</summary>
public static class Bench
{
    /// <summary>Training the tutorial Net (SGD lr 0.001, momentum 0.9, cross-entropy) on pre-drawn random batches; images per second.</summary>
    /// <param name="phase">full (the training step), forward-backward (no optimizer step) or forward (no autograd): where the time goes.</param>
    /// <param name="optimizer">flat (what `cifar10` runs: <see cref="CifarNet.LossBackward"/> and the FlatSgd), autograd (the FlatSgd with
    /// cross_entropy(forward) and libtorch's backward: the step before the hand head) or torch (that with TorchSharp's optim.SGD).</param>
    /// <param name="lanes">flat only: the batch in 1 or 2 lanes (<see cref="CifarNetLanes"/>; two run on two cores).</param>
    public static double CifarNetTrain(int batchSize, int steps, int warmup = 20, long seed = 1, string phase = "full", string optimizer = "flat", int lanes = 1)
    {
        if (lanes != 1 && optimizer != "flat") throw new UsageException($"--lanes {lanes}: only --impl flat has lanes");
        if (optimizer is not ("flat" or "autograd" or "torch")) throw new UsageException($"--impl {optimizer}: expected flat, autograd or torch for cifar-net-train");
        if (phase is not ("full" or "forward-backward" or "forward")) throw new UsageException($"--phase {phase}: expected full, forward-backward or forward");
        if (batchSize < 1) throw new UsageException($"--batch-size {batchSize}: expected at least 1");
        if (steps < 1) throw new UsageException($"--steps {steps}: expected at least 1");
        using var gen = new Generator((ulong)seed);
        var net = new CifarNet(gen);
        using var flat = optimizer != "torch" ? new FlatSgd([.. net.parameters()], 0.001, 0.9) : null;
        var torchSgd = optimizer == "torch" ? optim.SGD(net.parameters(), 0.001, 0.9) : null;
        using var laneStep = flat is not null ? new CifarNetLanes(net, flat, lanes, concurrent: TorchRuntime.Cores >= 2) : null;
        const int pool = 16;
        var xs = Enumerable.Range(0, pool).Select(_ => randn([batchSize, 3, 32, 32], generator: gen)).ToArray();
        var ys = Enumerable.Range(0, pool).Select(_ => randint(0, 10, [batchSize], generator: gen)).ToArray();
        void Step(int i)
        {
            using var scope = NewDisposeScope();
            if (phase == "forward")
            {
                using var _ = no_grad();
                nn.functional.cross_entropy(net.call(xs[i % pool]), ys[i % pool]);
                return;
            }
            if (flat is not null) flat.zero_grad(); else torchSgd!.zero_grad();
            if (optimizer == "flat") laneStep!.LossBackward(xs[i % pool], ys[i % pool]);
            else nn.functional.cross_entropy(net.call(xs[i % pool]), ys[i % pool]).backward();
            if (phase == "full") { if (flat is not null) flat.step(); else torchSgd!.step(); }
        }
        for (int i = 0; i < warmup; i++) Step(i);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) Step(i);
        return steps * (double)batchSize / sw.Elapsed.TotalSeconds;
    }

    /// <summary>One optimizer step on the tutorial Net's parameters with fixed gradients; milliseconds per step.</summary>
    public static double OptimizerStep(string optimizer, string impl, int steps, int warmup = 50)
    {
        if (steps < 1) throw new UsageException($"--steps {steps}: expected at least 1");
        using var gen = new Generator(1);
        var net = new CifarNet(gen);
        var ps = net.parameters().ToList();
        foreach (var p in ps) p.grad = randn(p.shape, generator: gen) * 0.01;
        var spec = optimizer switch
        {
            "sgd" => new OptimizerSpec { Name = "momentum", Lr = 0.001, Momentum = 0.9 },
            "adam" => new OptimizerSpec { Name = "adam", Lr = 0.001 },
            "rmsprop" => new OptimizerSpec { Name = "rmsprop", Lr = 0.001 },
            "adagrad" => new OptimizerSpec { Name = "adagrad", Lr = 0.01 },
            _ => throw new UsageException($"--optimizer {optimizer}: expected sgd, adam, rmsprop or adagrad"),
        };
        Action step;
        if (impl == "hand") { var hand = spec.CreateHand(ps); step = hand.step; }
        else if (impl == "torch") { var builtIn = spec.CreateTorch(ps); step = () => builtIn.step(); }
        else throw new UsageException($"--impl {impl}: expected hand or torch");
        for (int i = 0; i < warmup; i++) step();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step();
        return sw.Elapsed.TotalMilliseconds / steps;
    }

    /// <summary>Seed 004's run (NumPy generator, He init) with one implementation; seconds for the iterations.</summary>
    public static double VectorBackpropSeconds(string impl, int iterations)
    {
        if (impl is not ("reference" or "torch")) throw new UsageException($"--impl {impl}: expected reference or torch");
        var r = VectorBackpropLab.Run(new VectorBackpropOptions { Impl = impl, Iterations = iterations });
        return r.Tables.Single().Seconds;
    }
}
