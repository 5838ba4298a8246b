using System.CommandLine;
using TorchLabs.Labs;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs bench CASE`: one timed case as a JSON object (scripts/bench/run.sh runs it against its peers).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var benchCase = new Argument<string>("CASE") { Description = "cifar-net-train, optimizer-step or vector-backprop" };
        var batchSize = new Option<int>("--batch-size") { Description = "cifar-net-train: images per step", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "Timed steps", DefaultValueFactory = _ => 1000 };
        var optimizer = new Option<string>("--optimizer")
        {
            Description = "optimizer-step: sgd, adam, rmsprop or adagrad",
            DefaultValueFactory = _ => "adam"
        };
        var impl = new Option<string>("--impl")
        {
            Description = "optimizer-step: hand or torch; vector-backprop: reference or torch; " +
            "cifar-net-train: autograd (as cifar10's default: modules, autograd, the fused SGD), fast (as cifar10 --impl fast: the hand " +
            "step) or torch (autograd with torch.optim.SGD)", DefaultValueFactory = _ => "hand"
        };
        var phase = new Option<string>("--phase")
        {
            Description = "cifar-net-train: full, forward-backward or forward",
            DefaultValueFactory = _ => "full"
        };
        var iterations = new Option<int>("--iterations") { Description = "vector-backprop: iterations", DefaultValueFactory = _ => 2000 };
        var threads = CommonOptions.Threads();
        var format = CommonOptions.Format();
        var mkldnn = new Option<string>("--mkldnn")
        {
            Description = "cifar-net-train: libtorch's oneDNN convolutions on or off",
            DefaultValueFactory = _ => "on"
        };
        mkldnn.AcceptOnlyFromAmong("on", "off");
        var cmd = new Command("bench",
            "Time one benchmark case (cifar-net-train, optimizer-step, vector-backprop); see scripts/bench/run.sh")
            { benchCase, batchSize, steps, optimizer, impl, iterations, threads, format, phase, mkldnn };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            CommonOptions.Setup(p.GetValue(threads), "cpu");
            if (p.GetValue(mkldnn) == "off") Runtime.TorchRuntime.SetMkldnn(false);
            int t = TorchSharp.torch.get_num_threads();
            string trainImpl = p.GetValue(impl) == "hand" ? "autograd" : p.GetValue(impl)!;
            object result = p.GetValue(benchCase) switch
            {
                "cifar-net-train" => new
                {
                    @case = "cifar-net-train", batchSize = p.GetValue(batchSize), steps = p.GetValue(steps),
                    threads = t, phase = p.GetValue(phase),
                    mkldnn = p.GetValue(mkldnn), allocator = Runtime.Allocators.InUse,
                    impl = trainImpl,
                    imagesPerSecond = Bench.CifarNetTrain(p.GetValue(batchSize), p.GetValue(steps), phase: p.GetValue(phase)!,
                        impl: trainImpl)
                },
                "optimizer-step" => new
                {
                    @case = "optimizer-step", optimizer = p.GetValue(optimizer), impl = p.GetValue(impl),
                    steps = p.GetValue(steps), threads = t,
                    msPerStep = Bench.OptimizerStep(p.GetValue(optimizer)!, p.GetValue(impl)!, p.GetValue(steps))
                },
                "vector-backprop" => new
                {
                    @case = "vector-backprop", impl = p.GetValue(impl) == "hand" ? "reference" : p.GetValue(impl),
                    iterations = p.GetValue(iterations), threads = t,
                    seconds = Bench.VectorBackpropSeconds(p.GetValue(impl) == "hand" ? "reference" : p.GetValue(impl)!,
                        p.GetValue(iterations))
                },
                var other =>
                    throw new UsageException($"{other}: unknown benchmark case; expected cifar-net-train, optimizer-step or " +
                    $"vector-backprop"),
            };
            Json.Print(result);
            return Outcome.Ok;
        }));
        return cmd;
    }
}
