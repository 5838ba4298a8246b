using System.Diagnostics;
using TorchLabs.Checkpoints;
using TorchLabs.Fast;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Optimizers;

namespace TorchLabs.Benchmarks;

/// <summary>The C# side of the benchmark cases that scripts/bench/run.sh times against Python peers.</summary>
public static class Bench
{
    /// <summary>Training the tutorial Net (SGD lr 0.001, momentum 0.9, cross-entropy) on pre-drawn random batches;
    /// images per second.</summary>
    /// <param name="phase">full (the training step), forward-backward (no optimizer step) or forward (no autograd):
    /// where the time goes.</param>
    /// <param name="impl">torch (cifar10's default: forward, cross_entropy, backward, TorchSharp's optim.SGD) or fast
    /// (cifar10's ‹impl› fast: the hand step of Fast/ and the fused SGD).</param>
    public static double CifarNetTrain(
        int batchSize,
        int steps,
        int warmup = 20,
        long seed = 1,
        string phase = "full",
        string impl = Impl.Torch
    )
    {
        Impl.Require(impl, Impl.Torch, Impl.Fast);
        if (phase is not ("full" or "forward-backward" or "forward"))
            throw new UsageException($"‹phase› {phase}: expected full, forward-backward or forward");
        if (batchSize < 1)
            throw new UsageException($"‹batch-size› {batchSize}: expected at least 1");
        if (steps < 1)
            throw new UsageException($"‹steps› {steps}: expected at least 1");
        using var gen = new Generator((ulong)seed);
        var net = new CifarNet(gen);
        using var fused = impl == Impl.Fast ? new FlatSgd([.. net.parameters()], 0.001, 0.9) : null;
        using var torchSgd = impl == Impl.Fast ? null : optim.SGD(net.parameters(), 0.001, 0.9);
        var fast = impl == Impl.Fast ? new Fast.CifarNetFastStep(net) : null;
        // The optimizer as cifar10 calls it (TorchSharp's step without garbage collection, or the fused SGD).
        var optimizer = fused is not null ? fused.Hooks() : OptimizerHooks.For(torchSgd!);
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
            optimizer.zero_grad();
            if (fast is not null)
                fast.LossBackward(xs[i % pool], ys[i % pool]);
            else
                nn.functional.cross_entropy(net.call(xs[i % pool]), ys[i % pool]).backward();
            if (phase == "full")
                optimizer.step();
        }
        for (int i = 0; i < warmup; i++)
            Step(i);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
            Step(i);
        return steps * (double)batchSize / sw.Elapsed.TotalSeconds;
    }

    /// <summary>One optimizer step on the tutorial Net's parameters with fixed gradients; milliseconds per
    /// step.</summary>
    public static double OptimizerStep(string optimizer, string impl, int steps, int warmup = 50)
    {
        if (steps < 1)
            throw new UsageException($"‹steps› {steps}: expected at least 1");
        using var gen = new Generator(1);
        var net = new CifarNet(gen);
        var ps = net.parameters().ToList();
        foreach (var p in ps)
            p.grad = randn(p.shape, generator: gen) * 0.01;
        var spec = optimizer switch
        {
            "sgd" => new OptimizerSpec
            {
                Name = "momentum",
                Lr = 0.001,
                Momentum = 0.9,
            },
            "adam" => new OptimizerSpec { Name = "adam", Lr = 0.001 },
            "rmsprop" => new OptimizerSpec { Name = "rmsprop", Lr = 0.001 },
            "adagrad" => new OptimizerSpec { Name = "adagrad", Lr = 0.01 },
            _ => throw new UsageException($"‹optimizer› {optimizer}: expected sgd, adam, rmsprop or adagrad"),
        };
        Action step;
        if (impl == "hand")
        {
            var hand = spec.CreateHand(ps);
            step = hand.step;
        }
        else if (impl == "torch")
        {
            var builtIn = spec.CreateTorch(ps);
            step = () => WithoutCollection.Run(() => builtIn.step());
        }
        else
            throw new UsageException($"‹impl› {impl}: expected hand or torch");
        for (int i = 0; i < warmup; i++)
            step();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
            step();
        return sw.Elapsed.TotalMilliseconds / steps;
    }

    /// <summary>Notes 004's run (NumPy generator, He init) with one implementation; seconds for the
    /// iterations.</summary>
    public static double VectorBackpropSeconds(string impl, int iterations)
    {
        if (impl is not ("reference" or "torch"))
            throw new UsageException($"‹impl› {impl}: expected reference or torch");
        var r = VectorBackpropLab.Run(new VectorBackpropOptions { Impl = impl, Iterations = iterations });
        return r.Tables.Single().Seconds;
    }
}
