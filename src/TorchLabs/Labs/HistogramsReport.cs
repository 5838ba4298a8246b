using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>The activation-histogram section of the report: 3 activations × 5 initialisations.</summary>
public sealed class HistogramsReportLab()
    : ReportLab(
        "histograms",
        "Activation histograms: what saturates (notes Q4)",
        "Per-layer activation histograms of a 5-layer net for sigmoid, ReLU, tanh under five weight initialisations (notes Q4)"
    )
{
    public override ReportSection Run(LabContext context)
    {
        var blocks = new List<Block>
        {
            new Paragraph(
                "Notes 000/001 Q4: x ∈ R^{1000×100} from N(0, 1) through 5 layers of 100 units without bias; weights 0, N(0, 1), N(0, 0.01²) and, beyond the notes, Xavier (std 1/√100) and He (std √(2/100)). Saturated: sigmoid within 0.01 of 0 or 1, tanh within 0.01 of ±1, ReLU exactly 0."
            ),
        };
        var runs = new List<HistogramRun>();
        foreach (string act in HistogramsLab.ActivationNames)
        foreach (string init in HistogramsLab.InitNames)
        {
            context.Report($"{act}, {init}");
            var run = HistogramsLab.Run(act, init, context.Seed);
            runs.Add(run);
            blocks.Add(HistogramsLab.Plot(run));
        }
        blocks.Add(
            new Table(
                ["activation", "init", "layer-5 mean", "layer-5 std", "layer-5 saturated"],
                runs.Select(r =>
                        (IReadOnlyList<string>)
                            [
                                r.Activation,
                                r.Init,
                                r.Layers[^1].Mean.ToString("F4"),
                                r.Layers[^1].Std.ToString("F4"),
                                r.Layers[^1].Saturated.ToString("P1"),
                            ]
                    )
                    .ToList(),
                "The fifth layer of every run"
            )
        );
        HistogramRun R(string a, string i) => runs.Single(r => r.Activation == a && r.Init == i);
        blocks.Add(
            new Paragraph(
                $"Reading: with N(0, 1) weights the sigmoid saturates ({R("sigmoid", "normal-1").Layers[^1].Saturated:P0} of layer 5 within 0.01 of 0 or 1), "
                    + $"where σ′ ≈ 0 and gradients vanish; with N(0, 0.01²) every unit collapses towards 0.5 (layer-5 std "
                    + $"{R("sigmoid", "normal-0.01").Layers[^1].Std:0.0E+0}), so the units "
                    + $"all say the same thing; with zero weights every unit of a layer is identical. Xavier keeps the sigmoid and tanh spread "
                    + $"(layer-5 std {R("sigmoid", "xavier").Layers[^1].Std:F3} and {R("tanh", "xavier").Layers[^1].Std:F3}); for ReLU, He keeps the spread "
                    + $"(layer-5 std {R("relu", "he").Layers[^1].Std:F3}) "
                    + $"where Xavier halves it layer after layer ({R("relu", "xavier").Layers[^1].Std:F3})."
            )
        );
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber =
                $"{runs.Count} runs; sigmoid with N(0, 1) weights: {R("sigmoid", "normal-1").Layers[^1].Saturated:P0} of layer "
                + $"5 saturated",
        };
    }
}
