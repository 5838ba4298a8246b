using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs vector-backprop`: notes 004's run, printing the document's cost lines.</summary>
public static class VectorBackpropCommand
{
    public static Command Create()
    {
        var options = new VectorBackpropCommandOptions();
        var cmd = new Command(
            "vector-backprop",
            "Notes 004's network by the notes' vector formulas and by autograd: the document's cost table, digit for digit"
        );
        cmd.With(options.Symbols);
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var (o, json, outDir) = options.Bind(p);
                var status = new StatusLine(json ? Console.Error : Console.Out);
                var r = VectorBackpropLab.Run(o, status, status.Log);
                status.Clear();
                if (json)
                    Json.Print(r.ToJson());
                else
                    Print(r, outDir);
                if (r.Tables.FirstOrDefault(t => t.DivergedAt is not null) is { } diverged)
                    throw Diverged(diverged, o);
                return Outcome.Ok;
            })
        );
        return cmd;
    }

    static void Print(VectorBackpropResult r, string outDir)
    {
        var written = Figures.Write(VectorBackpropLab.Blocks(r).OfType<Figure>().ToList(), outDir);
        if (r.MaxRelDifference is double d)
            Console.Out.WriteLine($"reference and torch agree to {d:0.0E+0} relative at every printed iteration");
        if (r.Predictions.Length > 0)
            Console.Out.WriteLine(
                $"predict (threshold 0.5) on {r.Predictions.Length} new examples: {r.Predictions.Count(v => v == 1)} predicted 1"
            );
        Console.Error.WriteLine("figure: " + string.Join(", ", written));
    }

    static LabFailedException Diverged(CostTable diverged, VectorBackpropOptions o)
    {
        double first = diverged.Costs.Count > 0 ? diverged.Costs[0].Cost : double.NaN;
        return new LabFailedException(
            $"{diverged.Impl}: the cost diverged: {first:F2} at iteration 0, NaN or infinite from iteration {diverged.DivergedAt}"
                + (
                    o.Init == "as-written"
                        ? " (the document's randn·√2 initialisation; --init he reproduces its printed costs)"
                        : "; try a smaller --lr"
                )
        );
    }
}
