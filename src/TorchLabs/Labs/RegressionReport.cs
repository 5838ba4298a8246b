using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>How the report shows the lab: its blocks.</summary>
public static partial class RegressionLab
{
    public static IEnumerable<Block> Blocks(RegressionResult r) =>
        [.. Tables(r), .. FitFigures(r), ErmsFigure(r, byOrder: true), ErmsFigure(r, byOrder: false)];

    /// <summary>The closed-form line, and Bishop's Tables 1.1 and 1.2: ours beside the notes'.</summary>
    static IEnumerable<Block> Tables(RegressionResult r)
    {
        yield return new Paragraph(
            $"Linear regression in closed form, on 20 points t = 2x + 1 + N(0, 0.3²): w* = (ΦᵀΦ)⁻¹Φᵀt. TorchSharp's linalg.lstsq gives intercept {r.Line.Intercept:F6} and slope {r.Line.Slope:F6}; the normal equations (linalg.solve) and the plain C# QR solve agree to {Bound(Math.Max(Diff(r.Line.LstsqW, r.Line.NormalW), Diff(r.Line.LstsqW, r.Line.PlainW)))} relative."
        );
        yield return new Paragraph(
            $"Bishop's curve fitting (notes 002): N = {N} points, x evenly spaced in [0, 1], t = sin(2πx) + N(0, {r.Noise}²) from the notes; a {TestN}-point test set with fresh noise. Ridge uses the notes' (and Bishop's eq. 1.4) Ẽ(w) = ½Σ(y − t)² + (λ/2)‖w‖²."
        );
        yield return new Table(
            ["", .. TableOrders.Select(m => $"M = {m}")],
            Enumerable
                .Range(0, 10)
                .Select(j =>
                    (IReadOnlyList<string>)[$"w{j}*", .. TableOrders.Select(m => j <= m ? C(r.ByOrder[m].W[j]) : "")]
                )
                .ToList(),
            "Table 1.1, ours (coefficients w* of the polynomial fits)"
        );
        yield return new Table(
            ["", "M = 0", "M = 1", "M = 3", "M = 9"],
            NotesTable11
                .Select((row, j) => (IReadOnlyList<string>)[$"w{j}*", .. row.Select(v => v is double d ? C(d) : "")])
                .ToList(),
            "Table 1.1 as the notes print it"
        );
        yield return new Table(
            ["", .. TableLnLambdas.Select(l => $"ln λ = {Ln(l)}")],
            Enumerable
                .Range(0, 10)
                .Select(j => (IReadOnlyList<string>)[$"w{j}*", .. r.Ridge.Select(f => C(f.W[j]))])
                .ToList(),
            "Table 1.2, ours (M = 9 with ridge)"
        );
        yield return new Table(
            ["", "ln λ = −∞", "ln λ = −18", "ln λ = 0"],
            NotesTable12.Select((row, j) => (IReadOnlyList<string>)[$"w{j}*", .. row.Select(C)]).ToList(),
            "Table 1.2 as the notes print it"
        );
        yield return new Paragraph(
            $"Why the tables differ: the coefficients of a fit depend on the particular noise draw, and the notes' (Bishop's) draw is not published; ours comes from a seeded generator. The shape agrees: M = 9 interpolates the ten points with coefficients of order 10⁵, and ridge shrinks them (‖w‖∞ {r.Ridge[0].W.Max(Math.Abs):0.0E+0} at ln λ = −∞, {r.Ridge[1].W.Max(Math.Abs):0.0E+0} at −18, {r.Ridge[2].W.Max(Math.Abs):0.00} at 0). TorchSharp's lstsq and the plain C# QR solve agree to {Bound(r.ByOrder.Concat(r.Ridge).Max(f => f.SolveAgreement))} relative over all fits (the M = 9 system is ill-conditioned, so this is the loosest)."
        );
    }

    /// <summary>The fits of order 0, 1, 3 and 9, and of order 9 with ridge, over the points and sin 2πx.</summary>
    static IEnumerable<Block> FitFigures(RegressionResult r)
    {
        double[] fine = Enumerable.Range(0, 201).Select(i => i / 200.0).ToArray();
        ScottPlot.Plot Panel(PolyFit f, string title)
        {
            var p = new ScottPlot.Plot();
            var truth = p.Add.ScatterLine(fine, fine.Select(v => Math.Sin(2 * Math.PI * v)).ToArray());
            truth.Color = ScottPlot.Colors.Green;
            truth.LegendText = "sin 2πx";
            var fit = p.Add.ScatterLine(fine, fine.Select(v => Predict(f.W, v)).ToArray());
            fit.Color = ScottPlot.Colors.Red;
            fit.LegendText = "fit";
            var pts = p.Add.ScatterPoints(r.X, r.T);
            pts.Color = ScottPlot.Colors.Blue;
            pts.MarkerSize = 7;
            p.Axes.SetLimits(-0.05, 1.05, -1.6, 1.6);
            p.Title(title, size: 14);
            return p;
        }
        yield return Figures.Row(
            TableOrders.Select(m => Panel(r.ByOrder[m], $"M = {m}")).ToList(),
            "regression-fits",
            "Polynomial fits of order M = 0, 1, 3, 9 (red) to the ten points (blue); sin 2πx in green",
            380,
            300
        );
        yield return Figures.Row(
            r.Ridge.Select(f => Panel(f, $"M = 9, ln λ = {Ln(f.LnLambda)}")).ToList(),
            "regression-ridge",
            "M = 9 with ridge: ln λ = −∞, −18, 0",
            380,
            300
        );
    }

    /// <summary>Training and test E_RMS against the order M (Bishop's Figure 1.5) or against ln λ at M = 9 (Figure
    /// 1.8).</summary>
    static Block ErmsFigure(RegressionResult r, bool byOrder)
    {
        var fits = byOrder ? r.ByOrder : r.RidgeSweep;
        double[] x = byOrder
            ? Enumerable.Range(0, fits.Count).Select(i => (double)i).ToArray()
            : fits.Select(f => f.LnLambda).ToArray();
        (string, double[], double[])[] curves =
        [
            ("training", x, fits.Select(f => f.TrainRms).ToArray()),
            ("test", x, fits.Select(f => f.TestRms).ToArray()),
        ];
        return byOrder
            ? Figures.Of(
                Plots.Curves("E_RMS against the order M", "M", "E_RMS", curves),
                "regression-erms-order",
                "Training and test E_RMS against M (Bishop's Figure 1.5)",
                700,
                420
            )
            : Figures.Of(
                Plots.Curves("E_RMS against ln λ (M = 9)", "ln λ", "E_RMS", curves),
                "regression-erms-lambda",
                "Training and test E_RMS against ln λ (Bishop's Figure 1.8)",
                700,
                420
            );
    }
}

/// <summary>The regression section of the report.</summary>
public sealed class RegressionReportLab()
    : ReportLab(
        "regression",
        "Regression and polynomial curve fitting (Bishop's Tables 1.1 and 1.2)",
        "Closed-form linear regression, polynomial fits M = 0..9, ridge, E_RMS curves (notes 002)"
    )
{
    public override ReportSection Run(LabContext context)
    {
        var r = RegressionLab.Run(context.Seed);
        double agreement = r.ByOrder.Concat(r.Ridge).Concat(r.RidgeSweep).Max(f => f.SolveAgreement);
        return new ReportSection(Id, Title, SectionStatus.Ran, RegressionLab.Blocks(r).ToList(), TimeSpan.Zero)
        {
            KeyNumber =
                $"lstsq and plain C# QR agree {RegressionLab.Bound(agreement)}; test E_RMS at M = 3: {r.ByOrder[3].TestRms:F3}",
        };
    }
}
