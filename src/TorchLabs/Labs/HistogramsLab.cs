using System.Globalization;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>A histogram: bin edges (one more than counts) and counts.</summary>
public sealed record Histogram(double[] Edges, long[] Counts);

/// <summary>One layer's activations: mean, standard deviation, saturated fraction, histogram.</summary>
public sealed record LayerStats(double Mean, double Std, double Saturated, Histogram Histogram);

/// <summary>One activation × initialisation run through the five layers.</summary>
public sealed record HistogramRun(string Activation, string Init, IReadOnlyList<LayerStats> Layers);

/// <summary>
/// Notes 000/001 Q4: x ∈ R^{1000×100} from N(0, 1) through 5 layers of 100 units (no bias), per-layer activation
/// histograms, for sigmoid, ReLU and tanh under weights 0, N(0, 1), N(0, 0.01²) and, beyond the notes, Xavier (std
/// 1/√n) and He (std √(2/n)).
/// </summary>
public static class HistogramsLab
{
    public static readonly string[] ActivationNames = ["sigmoid", "relu", "tanh"];
    public static readonly string[] InitNames = ["zero", "normal-1", "normal-0.01", "xavier", "he"];
    public const int Samples = 1000,
        Units = 100,
        LayerCount = 5,
        Bins = 30;

    /// <summary>The weight standard deviation of an initialisation for a layer with n inputs.</summary>
    public static double WeightStd(string init, int n) =>
        init switch
        {
            "zero" => 0,
            "normal-1" => 1,
            "normal-0.01" => 0.01,
            "xavier" => 1 / Math.Sqrt(n),
            "he" => Math.Sqrt(2.0 / n),
            _ => throw new UsageException($"‹init› {init}: expected one of {string.Join(", ", InitNames)}"),
        };

    static Tensor Apply(string activation, Tensor h) =>
        ActivationNames.Contains(activation)
            ? Functions.Activations.Find(activation).Torch(h)
            : throw new UsageException(
                $"‹activation› {activation}: expected one of {string.Join(", ", ActivationNames)}"
            );

    /// <summary>Saturated: sigmoid within 0.01 of 0 or 1, tanh within 0.01 of ±1, ReLU exactly 0.</summary>
    public static Tensor SaturatedMask(string activation, Tensor a) =>
        activation switch
        {
            "sigmoid" => (a < 0.01).logical_or(a > 0.99),
            "tanh" => a.abs() > 0.99,
            "relu" => a == 0,
            _ => throw new UsageException(
                $"‹activation› {activation}: expected one of {string.Join(", ", ActivationNames)}"
            ),
        };

    public static HistogramRun Run(string activation, string init, long seed)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        var a = randn([Samples, Units], ScalarType.Float64, generator: gen);
        var layers = new List<LayerStats>();
        for (int l = 0; l < LayerCount; l++)
        {
            var w = randn([Units, Units], ScalarType.Float64, generator: gen) * WeightStd(init, Units);
            a = Apply(activation, matmul(a, w));
            double[] values = a.data<double>().ToArray();
            double lo = activation == "tanh" ? -1 : 0;
            double hi = activation == "relu" ? Math.Max(values.Max(), 1e-12) : 1;
            layers.Add(
                new LayerStats(
                    a.mean().item<double>(),
                    a.std(unbiased: false).item<double>(),
                    SaturatedMask(activation, a).to_type(ScalarType.Float64).mean().item<double>(),
                    Count(values, lo, hi, Bins)
                )
            );
        }
        return new HistogramRun(activation, init, layers);
    }

    /// <summary>Counts of <paramref name="values"/> in <paramref name="bins"/> equal bins over [lo, hi], the last bin
    /// closed.</summary>
    public static Histogram Count(double[] values, double lo, double hi, int bins)
    {
        double width = (hi - lo) / bins;
        var edges = Enumerable.Range(0, bins + 1).Select(i => lo + i * width).ToArray();
        var counts = new long[bins];
        foreach (double v in values)
        {
            int b = (int)Math.Floor((v - lo) / width);
            counts[Math.Clamp(b, 0, bins - 1)]++;
        }
        return new Histogram(edges, counts);
    }

    /// <summary>The classic figure: one histogram per layer, five panels in a row.</summary>
    public static Figure Plot(HistogramRun run)
    {
        var panels = run
            .Layers.Select(
                (layer, i) =>
                {
                    var plot = new ScottPlot.Plot();
                    var h = layer.Histogram;
                    double w = h.Edges[1] - h.Edges[0];
                    var bars = h
                        .Counts.Select(
                            (c, k) =>
                                new ScottPlot.Bar
                                {
                                    Position = h.Edges[k] + w / 2,
                                    Value = c,
                                    Size = w * 0.95,
                                }
                        )
                        .ToList();
                    plot.Add.Bars(bars);
                    plot.Title($"{i + 1}-layer", size: 14);
                    plot.Axes.Bottom.Label.Text = $"sat. {layer.Saturated:P0}";
                    plot.Axes.Margins(bottom: 0);
                    return plot;
                }
            )
            .ToList();
        return Figures.Row(
            panels,
            $"histograms-{run.Activation}-{run.Init}",
            $"{run.Activation}, weights {run.Init}: activation histograms of layers 1-5 (1000 × 100 values each)",
            300,
            260
        );
    }

    public static Table StatsTable(HistogramRun run) =>
        new(
            ["layer", "mean", "std", "saturated"],
            run.Layers.Select(
                    (l, i) =>
                        (IReadOnlyList<string>)
                            [
                                (i + 1).ToString(),
                                l.Mean.ToString("F4", CultureInfo.InvariantCulture),
                                l.Std.ToString("F4", CultureInfo.InvariantCulture),
                                l.Saturated.ToString("P1", CultureInfo.InvariantCulture),
                            ]
                )
                .ToList(),
            $"{run.Activation}, weights {run.Init}"
        );
}
