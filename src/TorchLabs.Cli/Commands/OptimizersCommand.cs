using System.Globalization;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs optimizers`: one optimizer's trajectory on notes Q3's f, or the race of all six.</summary>
public static class OptimizersCommand
{
    public static Command Create()
    {
        var options = new OptimizersCommandOptions();
        var cmd = new Command(
            "optimizers",
            "Six optimizers by hand on f = x0²/20 + x1² (notes Q3): one trajectory, or the race of all six with figures"
        );
        cmd.With(options.Symbols);
        CommonOptions.RegisterBinder(cmd, p => options.Bind(p));
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var r = options.Bind(p);
                if (r.Spec is null)
                    Race(r);
                else
                    One(r, r.Spec);
                return Outcome.Ok;
            })
        );
        return cmd;
    }

    static void Race(OptimizersRequest r)
    {
        var race = StatusLine.Around(status => OptimizersLab.Race(r.Start, r.Steps, status));
        if (r.Json)
            Json.Print(race.ToJson());
        else
            SectionCommand.PrintBlocks("Optimizer race", OptimizersReportLab.RaceBlocks(race).ToList(), r.OutDir);
    }

    static void One(OptimizersRequest r, OptimizerSpec spec)
    {
        var path = OptimizersLab.Run(spec, r.Impl, r.Start, r.Steps, r.Grad);
        int bad = Array.FindIndex(path.Points, x => x.Any(v => !double.IsFinite(v)));
        if (bad >= 0)
            throw new LabFailedException(
                $"{spec.Describe()}: diverged: x is not finite from step {bad} (f at step {bad - 1}: {path.Loss[bad - 1]:G6}); try a smaller --lr"
            );
        if (r.Json)
        {
            Json.Print(path.ToJson());
            return;
        }
        int n = r.Steps,
            every = Math.Max(1, n / 20);
        Console.Out.WriteLine($"{spec.Describe()}, impl {path.Impl}, from ({r.Start[0]:G6}, {r.Start[1]:G6})");
        foreach (int t in Enumerable.Range(0, n + 1).Where(t => t % every == 0 || t == n))
            Console.Out.WriteLine(
                $"t {t, 7}  x = ({path.Points[t][0], 14:G8}, {path.Points[t][1], 14:G8})  f = {path.Loss[t]:G8}"
            );
    }

    /// <summary>Parses "X0,X1" into two finite doubles.</summary>
    public static double[] ParseStart(string s)
    {
        string[] parts = s.Split(',');
        var values = new double[parts.Length];
        if (
            parts.Length != 2
            || !parts
                .Select(
                    (v, i) => double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])
                )
                .All(ok => ok)
            || values.Any(v => !double.IsFinite(v))
        )
            throw new UsageException($"--start {s}: expected two finite numbers X0,X1 (for example --start 3.5,-2)");
        return values;
    }
}
