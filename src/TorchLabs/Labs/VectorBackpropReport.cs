using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>How the report shows the lab: its blocks.</summary>
public static partial class VectorBackpropLab
{
    public static IEnumerable<Block> Blocks(VectorBackpropResult r) =>
        [.. Overview(r), CostTable(r), .. Findings(r), .. CostFigure(r)];

    /// <summary>The network, the data and the two implementations.</summary>
    static IEnumerable<Block> Overview(VectorBackpropResult r)
    {
        var o = r.Options;
        yield return new Paragraph(
            $"Notes 004: network {string.Join("-", o.Dims)}, ReLU hidden layers, sigmoid output, cross-entropy + "
                + $"(λ/2m)‖W‖² with λ = {o.Lambd}, "
                + $"learning rate {o.LearningRate}, {o.Iterations} iterations on X ({o.Dims[0]} × {o.M}) and Y (1 × {o.M}) uniform in [0, 1], drawn with "
                + (
                    o.Rng == "numpy"
                        ? "NumPy's legacy generator exactly as the document (seed(1), rand, rand, seed(10), randn per layer; Reference/NumpyRandom)"
                        : "a TorchSharp generator"
                )
                + $", weights {(o.Init == "he" ? "randn·√(2/n_{l−1})" : "randn·√2 (the code as printed)")}, the last layer randn·0.01. Run "
                + $"twice: the notes' vector "
                + "formulas on plain arrays (Reference/), and TorchSharp autograd in float64."
        );
    }

    /// <summary>True when the run's settings are the document's, so its printed costs compare.</summary>
    static bool AsTheDocument(VectorBackpropOptions o) =>
        o.Rng == "numpy"
        && o.Init == "he"
        && o.PrintEvery == 100
        && o.Dims.SequenceEqual([12288, 20, 7, 5, 1])
        && o.M == 200
        && o.LearningRate == 0.01
        && o.Lambd == 0;

    /// <summary>The cost at every printed iteration: the document's (when the settings are its) and each
    /// implementation's.</summary>
    static Table CostTable(VectorBackpropResult r)
    {
        var o = r.Options;
        var rows = new List<IReadOnlyList<string>>();
        int count = r.Tables.Max(t => t.Costs.Count);
        for (int i = 0; i < count; i++)
        {
            int it = r.Tables.First(t => t.Costs.Count > i).Costs[i].Iteration;
            string doc = AsTheDocument(o) && it / 100 < DocumentCosts.Length ? Numpy8(DocumentCosts[it / 100]) : "–";
            rows.Add([it.ToString(), doc, .. r.Tables.Select(t => t.Costs.Count > i ? Numpy8(t.Costs[i].Cost) : "")]);
        }
        return new Table(
            ["iteration", "the document", .. r.Tables.Select(t => $"ours: {t.Impl}")],
            rows,
            "Cost every " + o.PrintEvery + " iterations"
        );
    }

    /// <summary>Divergence, the two implementations' agreement, and predict.</summary>
    static IEnumerable<Block> Findings(VectorBackpropResult r)
    {
        foreach (var t in r.Tables.Where(t => t.DivergedAt is not null))
            yield return new Paragraph(
                $"**{t.Impl}: the cost became NaN or infinite at iteration {t.DivergedAt}**; the run stopped there."
            );
        if (r.MaxRelDifference is double d)
            yield return new Paragraph(
                $"The two implementations agree to {d:0.0E+0} relative at every printed iteration. Times: "
                    + string.Join(", ", r.Tables.Select(t => $"{t.Impl} {t.Seconds:F1} s"))
                    + "."
            );
        if (r.Predictions.Length > 0)
            yield return new Paragraph(
                $"predict (threshold 0.5) on {r.Predictions.Length} new examples drawn from the same generator: {r.Predictions.Count(p => p == 1)} predicted 1. (The document draws X_new = rand(1228, 200), 1228 rows where the network needs 12288: np.dot would raise a shape error; we draw 12288.)"
            );
    }

    /// <summary>The cost curves of both implementations beside the document's.</summary>
    static IEnumerable<Block> CostFigure(VectorBackpropResult r)
    {
        var withCosts = r.Tables.Where(t => t.Costs.Count > 0).ToList();
        if (withCosts.Count > 0)
            yield return Figures.Of(
                Plots.Curves(
                    "Notes 004: cost",
                    "iteration",
                    "cost J",
                    withCosts
                        .Select(t =>
                            (
                                t.Impl,
                                t.Costs.Select(c => (double)c.Iteration).ToArray(),
                                t.Costs.Select(c => c.Cost).ToArray()
                            )
                        )
                        .Append(
                            (
                                "the document",
                                Enumerable.Range(0, DocumentCosts.Length).Select(i => i * 100.0).ToArray(),
                                DocumentCosts
                            )
                        )
                ),
                "vector-backprop-cost",
                "The cost every 100 iterations: ours (reference and TorchSharp) and the document's",
                800,
                460
            );
    }
}

/// <summary>The notes 004 section of the report.</summary>
public sealed class VectorBackpropReportLab()
    : ReportLab(
        "vector-backprop",
        "Notes 004: vector backprop, the document's cost table reproduced",
        "Notes 004's 12288-20-7-5-1 network by the notes' vector formulas and by autograd, reproducing the printed costs"
    )
{
    /// <summary>Products of 209 × 12288 matrices: every core (faster with both here; docs/performance.md).</summary>
    public override int DefaultThreads(LabContext context) => Runtime.TorchRuntime.Cores;

    public override ReportSection Run(LabContext context)
    {
        var r = VectorBackpropLab.Run(
            context.Quick
                ? new VectorBackpropOptions
                {
                    Dims = [40, 5, 3, 1],
                    M = 20,
                    Iterations = 200,
                }
                : new VectorBackpropOptions(),
            context.Progress
        );
        var costs = r.Tables[0]
            .Costs.Where(c => c.Iteration % 100 == 0 && c.Iteration / 100 < VectorBackpropLab.DocumentCosts.Length)
            .ToList();
        int matched = costs.Count(c =>
            VectorBackpropLab.Numpy8(c.Cost)
            == VectorBackpropLab.Numpy8(VectorBackpropLab.DocumentCosts[c.Iteration / 100])
        );
        return new ReportSection(Id, Title, SectionStatus.Ran, VectorBackpropLab.Blocks(r).ToList(), TimeSpan.Zero)
        {
            KeyNumber = context.Quick
                ? "quick run (a 40-5-3-1 network, 200 iterations): the document's costs need the full settings"
                : $"{matched}/{VectorBackpropLab.DocumentCosts.Length} printed costs reproduced to 8 digits"
                    + (r.MaxRelDifference is double d ? $"; reference vs autograd {d:0.0E+0}" : ""),
        };
    }
}
