using System.Globalization;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>How the report shows the lab: its blocks.</summary>
public static partial class PerceptronLab
{
    public static IEnumerable<Block> Blocks(PerceptronResult r)
    {
        IReadOnlyList<string> Row(PerceptronUpdate u) =>
            [u.Epoch.ToString(), V(u.X), u.Y.ToString(), V(u.W), u.B.ToString("G6", CultureInfo.InvariantCulture)];
        var rows =
            r.Updates.Count <= 16
                ? r.Updates.Select(Row).ToList()
                :
                [
                    .. r.Updates.Take(12).Select(Row),
                    ["…", $"{r.Updates.Count - 14} more updates", "", "", ""],
                    .. r.Updates.Skip(r.Updates.Count - 2).Select(Row),
                ];
        yield return new Table(
            ["epoch", "misclassified sample", "y", "w after", "b after"],
            rows,
            $"{r.Name}: {(r.Updates.Count <= 16 ? "every update" : "the updates, first and last")}"
        );
        yield return new Paragraph(
            r.Converged
                ? $"{r.Name}: converged after {r.Epochs} epochs and {r.Updates.Count} updates: w = {V(r.W)}, b = {r.B}. The bound: R = {r.R:F4} (max ‖(x, 1)‖), γ = {r.Gamma:F4} (the best margin of a unit (w, b)), (R/γ)² = {r.Bound:F2} ≥ {r.Updates.Count} updates."
                : $"{r.Name}: **did not converge** within {r.Epochs} epochs ({r.Updates.Count} updates; the last w = {V(r.W)}, b = {r.B}). The points are not linearly separable (no unit (w, b) has a positive margin), so the perceptron cycles for ever and the mistake bound does not apply."
        );
        yield return Figures.Of(
            Boundary(r),
            $"perceptron-{r.Name.ToLowerInvariant()}",
            $"{r.Name}: the points and the final decision boundary wᵀx + b = 0",
            560,
            460
        );
    }
}

/// <summary>The perceptron section of the report: the notes' samples and XOR.</summary>
public sealed class PerceptronReportLab()
    : ReportLab(
        "perceptron",
        "The perceptron: convergence, the mistake bound, and XOR",
        "The perceptron on notes 002's four samples (every update logged, the (R/γ)² bound) and on XOR"
    )
{
    public override ReportSection Run(LabContext context)
    {
        var runs = PerceptronLab.RunBoth();
        List<Block> blocks =
        [
            new Paragraph(
                "Notes 002: w ← w + y x and b ← b + y on each misclassified sample, learning rate 1, from zero."
            ),
            .. runs.SelectMany(PerceptronLab.Blocks),
        ];
        var seedRun = runs[0];
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber =
                $"{seedRun.Updates.Count} updates (bound (R/γ)² = {seedRun.Bound:F1}); XOR {(runs[1].Converged ? "converged (unexpected)" : "does not converge")}",
        };
    }
}
