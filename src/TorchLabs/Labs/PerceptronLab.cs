using System.Globalization;

namespace TorchLabs.Labs;

/// <summary>One update of the perceptron: which sample was misclassified and the weights after the update.</summary>
public sealed record PerceptronUpdate(int Epoch, int Sample, double[] X, int Y, double[] W, double B);

/// <summary>A perceptron run: every update, the final w and b, whether it converged, and the mistake bound.</summary>
public sealed record PerceptronResult(
    string Name,
    double[][] X,
    int[] Y,
    IReadOnlyList<PerceptronUpdate> Updates,
    double[] W,
    double B,
    bool Converged,
    int Epochs,
    double R,
    double? Gamma
)
{
    /// <summary>Novikoff's bound on the number of updates, (R/γ)², for linearly separable data.</summary>
    public double? Bound => Gamma is double g && g > 0 ? R * R / (g * g) : null;
}

/// <summary>
/// Notes 002's perceptron: w ← w + y x, b ← b + y on each misclassified sample (y(wᵀx + b) ≤ 0), learning rate 1, from
/// w = 0, b = 0, until an epoch has no mistake or the epoch limit. The bound (theorem 3.1 of the notes) uses augmented
/// vectors x̂ = (x, 1): R = max ‖x̂‖ and γ = max over unit ŵ of min yₙ ŵᵀx̂ₙ, found by a search over unit vectors.
/// </summary>
public static partial class PerceptronLab
{
    public static readonly double[][] NotesSamples =
    [
        [3, -3],
        [4, -3],
        [1, 1],
        [1, 2],
    ];
    public static readonly int[] NotesLabels = [-1, -1, 1, 1];
    public static readonly double[][] XorSamples =
    [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
    ];
    public static readonly int[] XorLabels = [-1, 1, 1, -1];

    public static PerceptronResult Train(string name, double[][] x, int[] y, int maxEpochs = 100)
    {
        var w = new double[x[0].Length];
        double b = 0;
        var updates = new List<PerceptronUpdate>();
        bool converged = false;
        int epoch = 0;
        while (epoch < maxEpochs && !converged)
        {
            epoch++;
            int mistakes = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double score = w.Zip(x[i], (a, c) => a * c).Sum() + b;
                if (y[i] * score > 0)
                    continue;
                mistakes++;
                for (int j = 0; j < w.Length; j++)
                    w[j] += y[i] * x[i][j]; // w ← w + y x
                b += y[i]; // b ← b + y
                updates.Add(new PerceptronUpdate(epoch, i, x[i], y[i], (double[])w.Clone(), b));
            }
            converged = mistakes == 0;
        }
        double R = x.Max(v => Math.Sqrt(v.Sum(c => c * c) + 1));
        return new PerceptronResult(name, x, y, updates, w, b, converged, epoch, R, MaxMargin(x, y));
    }

    /// <summary>γ = max_{‖ŵ‖=1} min_n yₙ ŵᵀx̂ₙ over augmented vectors, by a grid over the sphere refined around the
    /// best point; null when ≤ 0 (not separable).</summary>
    public static double? MaxMargin(double[][] x, int[] y)
    {
        if (x[0].Length != 2)
            return null;
        double Margin(double th, double ph)
        {
            double[] u = [Math.Sin(th) * Math.Cos(ph), Math.Sin(th) * Math.Sin(ph), Math.Cos(th)];
            return x.Select((v, n) => y[n] * (u[0] * v[0] + u[1] * v[1] + u[2])).Min();
        }
        double best = double.NegativeInfinity,
            bt = 0,
            bp = 0,
            step = Math.PI / 180;
        for (double th = 0; th <= Math.PI; th += step)
        for (double ph = -Math.PI; ph < Math.PI; ph += step)
        {
            double m = Margin(th, ph);
            if (m > best)
                (best, bt, bp) = (m, th, ph);
        }
        for (int round = 0; round < 40; round++)
        {
            step /= 2;
            for (int i = -4; i <= 4; i++)
            for (int j = -4; j <= 4; j++)
            {
                double m = Margin(bt + i * step, bp + j * step);
                if (m > best)
                    (best, bt, bp) = (m, bt + i * step, bp + j * step);
            }
        }
        return best > 0 ? best : null;
    }

    static string V(double[] v) =>
        "(" + string.Join(", ", v.Select(c => c.ToString("G6", CultureInfo.InvariantCulture))) + ")";

    /// <summary>The notes' samples and XOR, the two runs of the report.</summary>
    public static PerceptronResult[] RunBoth() =>
        [Train("Notes samples", NotesSamples, NotesLabels), Train("XOR", XorSamples, XorLabels)];

    /// <summary>
    /// The JSON of `torchlabs perceptron --format json`: per run every update (epoch, sample, x, y, w and b after it),
    /// the final w and b, the number of mistakes (updates), whether it converged, R, the margin γ and the bound (R/γ)²
    /// (null where the data are not separable).
    /// </summary>
    public static object ToJson(IReadOnlyList<PerceptronResult> runs) =>
        new
        {
            runs = runs.Select(r => new
            {
                name = r.Name,
                updates = r.Updates,
                w = r.W,
                b = r.B,
                mistakes = r.Updates.Count,
                converged = r.Converged,
                epochs = r.Epochs,
                r = r.R,
                gamma = r.Gamma,
                bound = r.Bound,
            }),
            xorConverges = runs.Single(r => r.Name == "XOR").Converged,
        };

    static ScottPlot.Plot Boundary(PerceptronResult r)
    {
        var plot = new ScottPlot.Plot();
        double xmin = r.X.Min(v => v[0]) - 1,
            xmax = r.X.Max(v => v[0]) + 1,
            ymin = r.X.Min(v => v[1]) - 1,
            ymax = r.X.Max(v => v[1]) + 1;
        var pos = plot.Add.ScatterPoints(
            r.X.Where((_, i) => r.Y[i] > 0).Select(v => v[0]).ToArray(),
            r.X.Where((_, i) => r.Y[i] > 0).Select(v => v[1]).ToArray()
        );
        pos.MarkerShape = ScottPlot.MarkerShape.Cross;
        pos.MarkerSize = 12;
        pos.LegendText = "y = +1";
        pos.Color = ScottPlot.Colors.Blue;
        var neg = plot.Add.ScatterPoints(
            r.X.Where((_, i) => r.Y[i] < 0).Select(v => v[0]).ToArray(),
            r.X.Where((_, i) => r.Y[i] < 0).Select(v => v[1]).ToArray()
        );
        neg.MarkerShape = ScottPlot.MarkerShape.FilledCircle;
        neg.MarkerSize = 10;
        neg.LegendText = "y = −1";
        neg.Color = ScottPlot.Colors.Orange;
        if (Math.Abs(r.W[1]) > 1e-12)
        {
            double[] xs = [xmin, xmax];
            var line = plot.Add.ScatterLine(xs, xs.Select(v => (-r.B - r.W[0] * v) / r.W[1]).ToArray());
            line.Color = ScottPlot.Colors.Red;
            line.LegendText = "wᵀx + b = 0";
        }
        else if (Math.Abs(r.W[0]) > 1e-12)
        {
            double xv = -r.B / r.W[0];
            var line = plot.Add.ScatterLine(new[] { xv, xv }, new[] { ymin, ymax });
            line.Color = ScottPlot.Colors.Red;
            line.LegendText = "wᵀx + b = 0";
        }
        plot.Axes.SetLimits(xmin, xmax, ymin, ymax);
        plot.Title($"Perceptron: {r.Name}" + (r.Converged ? "" : " (not converged)"));
        plot.Axes.Bottom.Label.Text = "x0";
        plot.Axes.Left.Label.Text = "x1";
        plot.ShowLegend();
        return plot;
    }
}
