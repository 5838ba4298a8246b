using System.Diagnostics;
using System.Globalization;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>
/// The errata: slips of the seed documents (../shared/seeds/README.md), each shown with numbers, the document's formula
/// run beside the correct one.
/// </summary>
public sealed class ErrataLab : IReportLab
{
    public string Id => "errata";
    public string Title => "Errata: the seed documents' slips, in numbers";
    public string Summary => "Each slip of the course documents run beside the correct formula";

    public Availability Check(LabContext context) => Availability.Yes;

    public ReportSection Run(LabContext context)
    {
        var sw = Stopwatch.StartNew();
        double[] start = OptimizersLab.DrawStart(context.Seed);
        int steps = OptimizersReportLab.SeedSteps;
        var blocks = new List<Block>
        {
            new Paragraph($"Seed 000/001 Q3's optimizer code, as written, against the correct update (torch.optim's), on f(x) = x₀²/20 + x₁² " +
                          $"from the race's start ({G(start[0])}, {G(start[1])}), {steps:N0} steps, analytic gradient."),
        };
        foreach (var slip in OptimizersLab.Slips(start, steps))
        {
            blocks.Add(new Paragraph($"**{slip.Title}.** The document: `{slip.AsWritten}`. Correct: {slip.Correct}."));
            var rows = new List<IReadOnlyList<string>>();
            foreach (int t in new[] { 1, 2, 3, 100, steps })
                rows.Add([t.ToString("N0"), Pt(slip.WrittenPath[t]), G(OptimizersLab.F(slip.WrittenPath[t])), Pt(slip.CorrectPath[t]), G(OptimizersLab.F(slip.CorrectPath[t]))]);
            blocks.Add(new Table(["step t", "as written: x_t", "f(x_t)", "correct: x_t", "f(x_t)"], rows));
        }
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, sw.Elapsed);
    }

    static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    static string Pt(double[] p) => $"({G(p[0])}, {G(p[1])})";
}
