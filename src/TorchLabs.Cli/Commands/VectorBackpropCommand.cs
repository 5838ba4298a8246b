using System.CommandLine;
using TorchLabs.Labs;
using TorchLabs.Reporting;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs vector-backprop`: seed 004's run, printing the document's cost lines.</summary>
public static class VectorBackpropCommand
{
    public static Command Create()
    {
        var rng = new Option<string>("--rng")
        {
            Description = "numpy (NumPy's legacy generator, as the document) or torch",
            DefaultValueFactory = _ => "numpy"
        };
        rng.AcceptOnlyFromAmong("numpy", "torch");
        var init = new Option<string>("--init")
        {
            Description = "he (randn·√(2/n), what produced the document's costs) or as-written " +
            "(randn·√2, the document's code)", DefaultValueFactory = _ => "he"
        };
        init.AcceptOnlyFromAmong("he", "as-written");
        var impl = new Option<string>("--impl")
        {
            Description = "both, reference (the seed's formulas on plain arrays) or torch " +
            "(autograd)", DefaultValueFactory = _ => "both"
        };
        impl.AcceptOnlyFromAmong("both", "reference", "torch");
        var iterations = new Option<int>("--iterations") { Description = "Gradient-descent iterations", DefaultValueFactory = _ => 2000 };
        var lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 0.01 };
        var lambd = new Option<double>("--lambd") { Description = "L2 strength λ", DefaultValueFactory = _ => 0 };
        var dims = new Option<string>("--dims") { Description = "Layer sizes", DefaultValueFactory = _ => "12288,20,7,5,1" };
        var m = new Option<int>("--m") { Description = "Number of examples", DefaultValueFactory = _ => 200 };
        var printEvery = new Option<int>("--print-every")
        {
            Description = "Print the cost every N iterations", DefaultValueFactory = _ =>
            100
        };
        var seed = new Option<long>("--seed") { Description = "Seed of X and Y (the document: 1)", DefaultValueFactory = _ => 1 };
        var weightSeed = new Option<long>("--weight-seed")
        {
            Description = "Seed of the weights (the document: 10)",
            DefaultValueFactory = _ => 10
        };
        var format = CommonOptions.Format();
        var outDir = CommonOptions.Out("out/vector-backprop");
        var threads = CommonOptions.Threads();
        var cmd = new Command("vector-backprop",
            "Seed 004's network by the seed's vector formulas and by autograd: the document's cost table, digit for digit")
            { rng, init, impl, iterations, lr, lambd, dims, m, printEvery, seed, weightSeed, format, outDir, threads };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            // large matrix products: every core (measured 24 s vs 31 s)
            CommonOptions.Setup(p.GetValue(threads), "cpu", Runtime.TorchRuntime.Cores);
            var o = new VectorBackpropOptions
            {
                Rng = p.GetValue(rng)!, Init = p.GetValue(init)!, Impl = p.GetValue(impl)!, Iterations = p.GetValue(iterations),
                LearningRate = p.GetValue(lr),
                Lambd = p.GetValue(lambd), Dims = CommonOptions.ParseSizes(p.GetValue(dims)!, "--dims"), M = p.GetValue(m),
                PrintEvery = p.GetValue(printEvery),
                Seed = p.GetValue(seed), WeightSeed = p.GetValue(weightSeed), ModelsDir = Path.Combine(p.GetValue(outDir)!, "models"),
            };
            bool json = p.GetValue(format) == "json";
            var status = new StatusLine(json ? Console.Error : Console.Out);
            var r = VectorBackpropLab.Run(o, status, status.Log);
            status.Clear();
            if (json)
                Json.Print(new
                {
                    dims = o.Dims, m = o.M, rng = o.Rng, init = o.Init,
                    runs = r.Tables.Select(t => new
                    {
                        impl = t.Impl, costs = t.Costs.Select(c => new
                        {
                            iteration = c.Iteration,
                            cost = c.Cost
                        }), divergedAt = t.DivergedAt, seconds = t.Seconds
                    }),
                    maxRelDifference = r.MaxRelDifference,
                    predictedOnes = r.Predictions.Count(v => v == 1),
                });
            else
            {
                string dir = p.GetValue(outDir)!;
                var written = Figures.Write(VectorBackpropLab.Blocks(r).OfType<Figure>().ToList(), dir);
                if (r.MaxRelDifference is double d) Console.Out.WriteLine($"reference and torch agree to {d:0.0E+0} relative at every " +
                    $"printed iteration");
                if (r.Predictions.Length > 0) Console.Out.WriteLine($"predict (threshold 0.5) on {r.Predictions.Length} new examples: " +
                    $"{r.Predictions.Count(v => v == 1)} predicted 1");
                Console.Error.WriteLine("figure: " + string.Join(", ", written));
            }
            var diverged = r.Tables.FirstOrDefault(t => t.DivergedAt is not null);
            if (diverged is not null)
            {
                double first = diverged.Costs.Count > 0 ? diverged.Costs[0].Cost : double.NaN;
                throw new LabFailedException($"{diverged.Impl}: the cost diverged: {first:F2} at iteration 0, NaN or infinite from " +
                    $"iteration {diverged.DivergedAt}" +
                    (o.Init == "as-written"
                        ? " (the document's randn·√2 initialisation; --init he reproduces its printed costs)" : "; try a smaller --lr"));
            }
            return Outcome.Ok;
        }));
        return cmd;
    }
}
