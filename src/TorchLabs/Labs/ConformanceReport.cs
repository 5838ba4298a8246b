using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>The report section: TorchSharp's optimizers against the hand references of PyTorch's algorithms.</summary>
public sealed class ConformanceReportLab()
    : ReportLab(
        "conformance",
        "Conformance: TorchSharp's optimizers and schedulers against PyTorch's",
        "TorchSharp 0.107's C# optimizers and learning-rate schedulers run beside hand references of PyTorch's algorithms on a grid of settings"
    )
{
    public override ReportSection Run(LabContext context)
    {
        var rows = ConformanceGrid
            .Run(context.Progress)
            .Concat(SchedulerConformance.RunGrid(context.Progress))
            .ToList();
        int differs = rows.Count(r => r.Verdict != "agrees");
        return new ReportSection(
            Id,
            Title,
            SectionStatus.Ran,
            [
                new Paragraph(
                    "TorchSharp's torch.optim and its schedulers are C# re-implementations, not libtorch's. Each optimizer runs on notes 001's f(x) = x₀²/20 + x₁² (25 steps from (3, −2)) and on a small MLP with four parameter tensors (15 steps), under every setting of the grid, beside a hand reference of PyTorch's algorithm (Reference/TorchOptimReferences.cs; the references equal PyTorch 1.13's trajectories to 1e-12 in the tests). Largest difference: ‖a_t − b_t‖∞ / ‖b_t‖∞ over the steps, float64. Each scheduler drives SGD (lr 0.1) over at least three of its periods, beside a hand reference (Reference/TorchSchedulerReferences.cs, equal to PyTorch 1.13's learning rates and momenta to 1e-12); its steps are the sum over its settings. Details and reproductions: docs/conformance.md."
                ),
                ConformanceTable(rows),
            ],
            TimeSpan.Zero
        )
        {
            KeyNumber =
                $"{rows.Count - differs} of {rows.Count} optimizers and schedulers agree with PyTorch's; "
                + string.Join(", ", rows.Where(r => r.Verdict != "agrees").Select(r => r.Component))
                + " differ"
                + (differs == 1 ? "s" : ""),
        };
    }

    public static Table ConformanceTable(IReadOnlyList<ConformanceGrid.Row> rows) =>
        new(
            ["component", "settings tried", "steps", "largest difference TorchSharp vs reference", "verdict"],
            rows.Select(r =>
                    (IReadOnlyList<string>)
                        [
                            r.Component,
                            r.Settings.ToString(),
                            r.Steps.ToString(),
                            r.MaxDifference.ToString("0.0E+0", System.Globalization.CultureInfo.InvariantCulture),
                            r.Verdict,
                        ]
                )
                .ToList()
        );
}
