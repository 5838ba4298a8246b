using System.Globalization;
using TorchLabs.Gradients;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>The optimizer race and the three-way cross-checks, as a report section.</summary>
public sealed class OptimizersReportLab()
    : ReportLab(
        "optimizers",
        "Six optimizers by hand, cross-checked three ways",
        "GD, Momentum, Nesterov, AdaGrad, RMSProp, Adam by hand on f = x0²/20 + x1², against torch.optim and a pure C# reference"
    )
{
    /// <summary>The notes' run length (epoch=20000 in 001 Q3).</summary>
    public const int NotesSteps = 20_000;

    public override ReportSection Run(LabContext context)
    {
        double[] start = OptimizersLab.DrawStart(context.Seed);
        var race = OptimizersLab.Race(start, NotesSteps, context.Progress);
        context.Report("MLP cross-check");
        var mlp = OptimizersLab.CheckMlp(context.Seed);
        context.Report("hand Adam on the CIFAR-10 Net");
        var proof = OptimizersLab.ProveOnCifarNet(context.Seed);
        var blocks = new List<Block>();
        blocks.AddRange(RaceBlocks(race));
        blocks.AddRange(CrossCheckBlocks(mlp, proof));
        int agreeing = race.Rows.Count(row => row.HandDisagrees is null);
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber =
                $"hand = torch.optim to 1e-9 at every step for {agreeing}/{race.Rows.Count} optimizers; MLP cross-check ≤ {E(mlp.Steps.Max(s => Math.Max(s.HandVsTorch, s.ReferenceVsTorch)))}",
        };
    }

    static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    static string E(double v) => v.ToString("0.0E+0", CultureInfo.InvariantCulture);

    public static IEnumerable<Block> RaceBlocks(OptimizersLab.RaceResult race) =>
        [.. RaceTable(race), .. RaceFigures(race), .. NesterovForms(race)];

    /// <summary>The race's setting, and each optimizer's result and agreement with torch.optim.</summary>
    static IEnumerable<Block> RaceTable(OptimizersLab.RaceResult race)
    {
        yield return new Paragraph(
            $"Notes 000/001 Q3: minimise f(x) = x₀²/20 + x₁² from x₀ = ({G(race.Start[0])}, {G(race.Start[1])}), drawn uniformly in [−100, 100]² from the notes, {race.Steps:N0} steps (the notes' epoch count) with the notes' hyper-parameters. Each optimizer runs three times: by hand on TorchSharp tensors (Optimizers/), with TorchSharp's torch.optim, and in the pure C# reference (Reference/). The cross-check columns say through which step the path agrees with torch.optim's to 1e-9 relative ({HandVsAutograd.RelErrorFormula} at every step t, b the torch.optim path), in float64. Where an optimizer drives x to within rounding of 0 (subnormal numbers), the iterates are rounding noise and later steps can amplify it; the column then names the step and f there."
        );
        yield return Table.Of(
            race.Rows,
            ("optimizer", r => r.Spec.Describe()),
            ("final f", r => G(r.FinalF)),
            ($"steps to f < {OptimizersLab.Target:0E+0}", r => r.StepsToTarget?.ToString("N0") ?? "not reached"),
            ("hand = torch.optim (1e-9)", r => Agreement(r.HandDisagrees, r.Hand)),
            ("reference = torch.optim (1e-9)", r => Agreement(r.ReferenceDisagrees, r.Hand)),
            ("analytic vs numerical ∇f (max abs)", r => E(r.AnalyticVsNumerical))
        );
    }

    /// <summary>The six paths over the level sets of f, and f against the step.</summary>
    static IEnumerable<Block> RaceFigures(OptimizersLab.RaceResult race)
    {
        yield return Figures.Of(
            ContourPlot(race),
            "optimizers-paths",
            "Level sets of f with the six paths (hand implementations)",
            900,
            640
        );
        var curves = race.Rows.Select(r =>
        {
            var idx = Subsample(r.Hand.Loss.Length, 2000);
            return (r.Spec.Name, idx.Select(i => (double)i).ToArray(), idx.Select(i => r.Hand.Loss[i]).ToArray());
        });
        yield return Figures.Of(
            Plots.Curves(
                "Convergence on f = x₀²/20 + x₁²",
                "step t",
                "f(x_t) (log scale)",
                curves,
                logY: true,
                floor: 1e-40
            ),
            "optimizers-convergence",
            "f(x_t) against the step, log scale (values below 1e-40 drawn at 1e-40)"
        );
    }

    /// <summary>Nesterov's two forms (the notes' and torch's) as one method, measured.</summary>
    static IEnumerable<Block> NesterovForms(OptimizersLab.RaceResult race)
    {
        var eq = race.Nesterov;
        yield return new Paragraph(
            $"Nesterov's two forms are one method. The notes write v ← μv − η∇f(x + μv), x ← x + v; torch writes b ← μb + g, θ ← θ − η(g + μb). With v = −ηb, torch's θ_t is the notes' look-ahead point x_t + μv_t. Measured over {race.Steps:N0} steps: the largest relative difference between θ_t and x_t + μv_t is {E(eq.MaxRelError)}."
        );
        yield return new Table(
            ["t", "notes x_t", "notes x_t + μ v_t", "torch θ_t"],
            Enumerable
                .Range(0, Math.Min(5, eq.NotesPoints.Length))
                .Select(t =>
                    (IReadOnlyList<string>)
                        [t.ToString(), Pt(eq.NotesPoints[t]), Pt(eq.LookAheadPoints[t]), Pt(eq.TorchPoints[t])]
                )
                .ToList()
        );
    }

    /// <summary>"all 20,000 steps", or the last agreeing step and how small f was there.</summary>
    public static string Agreement(int? firstDisagreement, Trajectory path) =>
        firstDisagreement is int t
            ? $"through step {t - 1:N0} (f = {E(path.Loss[t - 1])})"
            : $"all {path.Points.Length - 1:N0} steps";

    static string Pt(double[] p) =>
        $"({p[0].ToString("G12", CultureInfo.InvariantCulture)}, {p[1].ToString("G12", CultureInfo.InvariantCulture)})";

    static int[] Subsample(int n, int max)
    {
        if (n <= max)
            return Enumerable.Range(0, n).ToArray();
        double stride = (n - 1) / (double)(max - 1);
        return Enumerable.Range(0, max).Select(i => (int)Math.Round(i * stride)).Distinct().ToArray();
    }

    static ScottPlot.Plot ContourPlot(OptimizersLab.RaceResult race)
    {
        var plot = new ScottPlot.Plot();
        double f0 = OptimizersLab.F(race.Start);
        // Level sets of f are ellipses x₀²/(20c) + x₁²/c = 1: semi-axes √(20c) and √c.
        for (int k = 0; k < 14; k++)
        {
            double c = f0 * Math.Pow(0.45, k);
            var xs = Enumerable
                .Range(0, 241)
                .Select(i => Math.Sqrt(20 * c) * Math.Cos(2 * Math.PI * i / 240))
                .ToArray();
            var ys = Enumerable.Range(0, 241).Select(i => Math.Sqrt(c) * Math.Sin(2 * Math.PI * i / 240)).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = ScottPlot.Colors.Gray.WithAlpha(0.45);
            line.LineWidth = 1;
        }
        foreach (var r in race.Rows)
        {
            var idx = Subsample(r.Hand.Points.Length, 1500);
            var s = plot.Add.Scatter(
                idx.Select(i => r.Hand.Points[i][0]).ToArray(),
                idx.Select(i => r.Hand.Points[i][1]).ToArray()
            );
            s.LegendText = r.Spec.Name;
            s.MarkerSize = 2;
            s.LineWidth = 1.5f;
        }
        var all = race.Rows.SelectMany(r => r.Hand.Points).ToList();
        double x0Min = all.Min(p => p[0]),
            x0Max = all.Max(p => p[0]),
            x1Min = all.Min(p => p[1]),
            x1Max = all.Max(p => p[1]);
        double padX = Math.Max(1, 0.12 * (x0Max - x0Min)),
            padY = Math.Max(1, 0.12 * (x1Max - x1Min));
        plot.Axes.SetLimits(x0Min - padX, x0Max + padX, x1Min - padY, x1Max + padY);
        plot.Title("Paths on f(x) = x₀²/20 + x₁²");
        plot.Axes.Bottom.Label.Text = "x₀";
        plot.Axes.Left.Label.Text = "x₁";
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        return plot;
    }

    public static IEnumerable<Block> CrossCheckBlocks(OptimizersLab.MlpCheck mlp, OptimizersLab.NetProof proof)
    {
        yield return new Paragraph(
            $"The same check on a network: the reference MLP [4, 8, 3] (sigmoid, softmax cross-entropy) on a fixed seeded dataset of 32 points. Reference backprop against TorchSharp autograd: largest relative error {E(mlp.GradientRelError)}. Then 50 steps of each optimizer from the same weights; the largest relative difference of all parameters over all steps:"
        );
        yield return new Table(
            ["optimizer", "hand vs torch.optim", "reference vs torch.optim", "within 1e-9"],
            mlp.Steps.Select(s =>
                    (IReadOnlyList<string>)
                        [
                            s.Optimizer,
                            E(s.HandVsTorch),
                            E(s.ReferenceVsTorch),
                            s.HandVsTorch <= 1e-9 && s.ReferenceVsTorch <= 1e-9 ? "pass" : "FAIL",
                        ]
                )
                .ToList()
        );
        yield return new Paragraph(
            $"Proof that the hand optimizers are real: the CIFAR-10 tutorial's Net trained with the hand Adam and with torch.optim Adam (lr 1e-3) from the same seed on the same random batches, in float32. Largest relative difference of the loss: {E(proof.MaxRelDifference)}; of the final weights: {E(proof.MaxParamRelDifference)}."
        );
        var steps = Enumerable.Range(1, proof.HandLoss.Length).Select(i => (double)i).ToArray();
        yield return Figures.Of(
            Plots.Curves(
                "CifarNet: hand Adam vs torch.optim Adam",
                "step",
                "cross-entropy loss",
                [("hand Adam", steps, proof.HandLoss), ("torch.optim Adam", steps, proof.TorchLoss)]
            ),
            "optimizers-cifarnet-adam",
            "The two loss curves lie on each other"
        );
    }
}
