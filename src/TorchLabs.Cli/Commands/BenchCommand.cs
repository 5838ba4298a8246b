using TorchLabs.Benchmarks;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs bench CASE`: one timed case as a JSON object (scripts/bench/run.sh runs it against its
/// peers).</summary>
public static class BenchCommand
{
    readonly record struct Request(
        string Case,
        int BatchSize,
        int Steps,
        string Optimizer,
        string? Impl,
        string Phase,
        int Iterations,
        string Mkldnn
    );

    public static Command Create()
    {
        var benchCase = new Argument<string>("CASE")
        {
            Description = "cifar-net-train, optimizer-step or vector-backprop",
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "cifar-net-train: images per step",
            DefaultValueFactory = _ => 4,
        };
        var steps = new Option<int>("--steps") { Description = "Timed steps", DefaultValueFactory = _ => 1000 };
        var optimizer = new Option<string>("--optimizer")
        {
            Description = "optimizer-step: sgd, adam, rmsprop or adagrad",
            DefaultValueFactory = _ => "adam",
        };
        var impl = new Option<string?>("--impl")
        {
            Description =
                "In the words every command shares: cifar-net-train torch (the default, as cifar10's: modules, autograd, TorchSharp's optim.SGD) or fast (as cifar10 --impl fast); optimizer-step hand (the default) or torch; vector-backprop reference (the default) or torch",
        };
        var phase = new Option<string>("--phase")
        {
            Description = "cifar-net-train: full, forward-backward or forward",
            DefaultValueFactory = _ => "full",
        };
        var iterations = new Option<int>("--iterations")
        {
            Description = "vector-backprop: iterations",
            DefaultValueFactory = _ => 2000,
        };
        var threads = CommonOptions.Threads();
        var format = CommonOptions.Format();
        var mkldnn = new Option<string>("--mkldnn")
        {
            Description = "cifar-net-train: libtorch's oneDNN convolutions on or off",
            DefaultValueFactory = _ => "on",
        };
        mkldnn.AcceptOnlyFromAmong("on", "off");
        var cmd = new Command(
            "bench",
            "Time one benchmark case (cifar-net-train, optimizer-step, vector-backprop); see scripts/bench/run.sh"
        )
        {
            benchCase,
            batchSize,
            steps,
            optimizer,
            impl,
            iterations,
            threads,
            format,
            phase,
            mkldnn,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(p.GetValue(threads), "cpu");
                Json.Print(
                    Time(
                        new Request(
                            p.GetValue(benchCase)!,
                            p.GetValue(batchSize),
                            p.GetValue(steps),
                            p.GetValue(optimizer)!,
                            p.GetValue(impl)!,
                            p.GetValue(phase)!,
                            p.GetValue(iterations),
                            p.GetValue(mkldnn)!
                        )
                    )
                );
                return Outcome.Ok;
            })
        );
        return cmd;
    }

    static object Time(Request r)
    {
        if (r.Mkldnn == "off")
            TorchRuntime.SetMkldnn(false);
        int t = TorchSharp.torch.get_num_threads();
        // Each case's words, its default first.
        string For(params string[] allowed) => Impl.Require(r.Impl ?? allowed[0], allowed);
        return r.Case switch
        {
            "cifar-net-train" => new
            {
                @case = r.Case,
                batchSize = r.BatchSize,
                steps = r.Steps,
                threads = t,
                phase = r.Phase,
                mkldnn = r.Mkldnn,
                allocator = Allocators.InUse,
                impl = For(Impl.Torch, Impl.Fast),
                imagesPerSecond = Bench.CifarNetTrain(
                    r.BatchSize,
                    r.Steps,
                    phase: r.Phase,
                    impl: For(Impl.Torch, Impl.Fast)
                ),
            },
            "optimizer-step" => new
            {
                @case = r.Case,
                optimizer = r.Optimizer,
                impl = For(Impl.Hand, Impl.Torch),
                steps = r.Steps,
                threads = t,
                msPerStep = Bench.OptimizerStep(r.Optimizer, For(Impl.Hand, Impl.Torch), r.Steps),
            },
            "vector-backprop" => new
            {
                @case = r.Case,
                impl = For(Impl.Reference, Impl.Torch),
                iterations = r.Iterations,
                threads = t,
                seconds = Bench.VectorBackpropSeconds(For(Impl.Reference, Impl.Torch), r.Iterations),
            },
            var other => throw new UsageException(
                $"{other}: unknown benchmark case; expected cifar-net-train, optimizer-step or vector-backprop"
            ),
        };
    }
}
