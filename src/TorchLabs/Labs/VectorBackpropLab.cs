using System.Diagnostics;
using System.Globalization;
using TorchLabs.Reference;

namespace TorchLabs.Labs;

/// <summary>Options of notes 004's run; the defaults reproduce the document's printed costs.</summary>
public sealed record VectorBackpropOptions
{
    public int[] Dims { get; init; } = [12288, 20, 7, 5, 1];

    /// <summary>Where the autograd run's trained network is written as network.pth and network.safetensors (keys W1,
    /// b1, … as the notes' param_w, param_b); null: not written.</summary>
    public string? ModelsDir { get; init; }
    public int M { get; init; } = 200;
    public int Iterations { get; init; } = 2000;
    public double LearningRate { get; init; } = 0.01;
    public double Lambd { get; init; }
    public int PrintEvery { get; init; } = 100;

    /// <summary>numpy: NumPy's legacy generator, seeded as the document (X, Y after seed(1), weights after seed(10));
    /// torch: a TorchSharp generator.</summary>
    public string Rng { get; init; } = "numpy";

    /// <summary>he: randn·√(2/n_{l−1}) (what produced the document's output); as-written: randn·√2 (the document's
    /// code).</summary>
    public string Init { get; init; } = "he";

    /// <summary>both, reference or torch.</summary>
    public string Impl { get; init; } = Runtime.Impl.All;
    public long Seed { get; init; } = Seeds.Default;
    public long WeightSeed { get; init; } = 10;

    public void Validate()
    {
        if (Dims.Length < 2 || Dims.Any(d => d < 1) || Dims[^1] != 1)
            throw new UsageException($"‹dims› {string.Join(",", Dims)}: expected positive layer sizes ending in 1");
        if (M < 1)
            throw new UsageException($"‹m› {M}: expected at least one example");
        // X and the activations (m per unit), the weights and their gradients, in float64, for two implementations.
        double units = Dims.Sum(d => (double)d),
            weights = Dims.Zip(Dims.Skip(1), (a, b) => (double)a * b).Sum();
        MemoryBudget.Require(2 * 8.0 * (3 * units * M + 3 * weights), $"‹dims› {string.Join(",", Dims)} ‹m› {M}");
        Require.WholeNumber(Iterations, "iterations");
        Require.LearningRate(LearningRate);
        if (!double.IsFinite(Lambd) || Lambd < 0)
            throw new UsageException($"‹lambd› {Lambd}: expected a finite number >= 0");
        Require.WholeNumber(PrintEvery, "print-every");
        if (Rng is not ("numpy" or "torch"))
            throw new UsageException($"‹rng› {Rng}: expected numpy or torch");
        if (Rng == "numpy")
        {
            // NumPy's legacy generator takes a 32-bit seed: a larger one would wrap onto another's numbers.
            Require.WholeNumber(Seed, "seed", 0, uint.MaxValue);
            Require.WholeNumber(WeightSeed, "weight-seed", 0, uint.MaxValue);
        }
        if (Init is not ("he" or "as-written"))
            throw new UsageException($"‹init› {Init}: expected he or as-written");
        Runtime.Impl.Require(Impl, Runtime.Impl.All, Runtime.Impl.Reference, Runtime.Impl.Torch);
    }
}

/// <summary>The printed costs of one implementation; <see cref="DivergedAt"/> names the first iteration with a
/// non-finite cost.</summary>
public sealed record CostTable(
    string Impl,
    IReadOnlyList<(int Iteration, double Cost)> Costs,
    int? DivergedAt,
    double Seconds
);

public sealed record VectorBackpropResult(
    VectorBackpropOptions Options,
    IReadOnlyList<CostTable> Tables,
    double? MaxRelDifference,
    int[] Predictions
)
{
    /// <summary>The run as `--format json` prints it.</summary>
    public object ToJson() =>
        new
        {
            dims = Options.Dims,
            m = Options.M,
            rng = Options.Rng,
            init = Options.Init,
            runs = Tables.Select(t => new
            {
                impl = t.Impl,
                costs = t.Costs.Select(c => new { iteration = c.Iteration, cost = c.Cost }),
                divergedAt = t.DivergedAt,
                seconds = t.Seconds,
            }),
            maxRelDifference = MaxRelDifference,
            predictedOnes = Predictions.Count(v => v == 1),
        };
}

/// <summary>
/// Notes 004: the 12288-20-7-5-1 network (ReLU hidden, sigmoid output, cross-entropy + L2), lr 0.01, 2000 iterations,
/// the cost printed every 100 iterations. Twice: the notes' vector formulas on plain arrays (Reference/VectorNetwork),
/// and TorchSharp autograd in float64. With NumPy's generator and He initialisation it prints the document's twenty
/// costs.
/// </summary>
public static partial class VectorBackpropLab
{
    /// <summary>The twenty costs the document prints (iterations 0, 100, ..., 1900).</summary>
    public static readonly double[] DocumentCosts =
    [
        0.69301356,
        0.69204859,
        0.68890952,
        0.66534268,
        0.63627974,
        0.59864491,
        0.5739967,
        0.55455259,
        0.53362871,
        0.52812387,
        0.52214822,
        0.50656239,
        0.51940142,
        0.51177312,
        0.50393255,
        0.5093858,
        0.54099861,
        0.51454733,
        0.50515268,
        0.50401095,
    ];

    /// <summary>X (n₀ × m), Y (1 × m), the weights and zero biases, drawn as the options say; and the generator for
    /// later draws.</summary>
    public static VectorProblem Data(VectorBackpropOptions o)
    {
        int L = o.Dims.Length - 1;
        double Scale(int l) => l < L ? (o.Init == "he" ? Math.Sqrt(2.0 / o.Dims[l - 1]) : Math.Sqrt(2)) : 0.01;
        var W = new double[L][];
        var B = Enumerable.Range(1, L).Select(l => new double[o.Dims[l]]).ToArray();
        if (o.Rng == "numpy")
        {
            var rng = new NumpyRandom((uint)o.Seed);
            double[] x = rng.Rand(o.Dims[0], o.M),
                y = rng.Rand(1, o.M); // np.random.seed(1); X = rand(12288, 200); Y = rand(1, 200)
            rng.Seed((uint)o.WeightSeed); // np.random.seed(10)
            for (int l = 1; l <= L; l++)
                // randn(n_l, n_{l−1}) · scale
                W[l - 1] = rng.Randn(o.Dims[l], o.Dims[l - 1]).Select(v => v * Scale(l)).ToArray();
            return new(x, y, W, B, n => rng.Rand(o.Dims[0], n));
        }
        var gen = new Generator((ulong)o.Seed);
        double[] Uni(params long[] shape) => rand(shape, ScalarType.Float64, generator: gen).data<double>().ToArray();
        double[] xt = Uni(o.Dims[0], o.M),
            yt = Uni(1, o.M);
        for (int l = 1; l <= L; l++)
            W[l - 1] = randn([o.Dims[l], o.Dims[l - 1]], ScalarType.Float64, generator: gen)
                .data<double>()
                .Select(v => v * Scale(l))
                .ToArray();
        return new(xt, yt, W, B, n => Uni(o.Dims[0], n));
    }

    /// <summary>X (n₀ × m), Y (1 × m), the initial weights W and biases B, and a draw of more uniform examples from
    /// the same generator (predict's input).</summary>
    public sealed record VectorProblem(
        double[] X,
        double[] Y,
        double[][] W,
        double[][] B,
        Func<int, double[]> MoreUniform
    );

    /// <summary>The runs of one problem: each implementation iterates from the problem's initial weights, logging J
    /// every PrintEvery iterations (each line prefixed with the implementation when <paramref name="both"/>).</summary>
    sealed class Runs(
        VectorBackpropOptions o,
        VectorProblem p,
        IProgress<string>? progress,
        Action<string>? log,
        bool both
    )
    {
        /// <summary>The reference run; also returns the trained network (for predict).</summary>
        public (CostTable Table, VectorNetwork Network) Reference()
        {
            var net = new VectorNetwork(
                o.Dims,
                p.W.Select(w => (double[])w.Clone()).ToArray(),
                p.B.Select(b => (double[])b.Clone()).ToArray()
            );
            return (Iterate("reference", () => net.Step(p.X, p.Y, o.M, o.LearningRate, o.Lambd)), net);
        }

        /// <summary>The same network with TorchSharp autograd in float64: J.backward(), then W ← W − η ∂J/∂W under
        /// no_grad.</summary>
        public CostTable Torch()
        {
            int L = o.Dims.Length - 1;
            using var outer = NewDisposeScope();
            var x = tensor(p.X, [o.Dims[0], o.M], ScalarType.Float64);
            var y = tensor(p.Y, [1, o.M], ScalarType.Float64);
            var w = Enumerable
                .Range(0, L)
                .Select(l => tensor(p.W[l], [o.Dims[l + 1], o.Dims[l]], ScalarType.Float64).requires_grad_(true))
                .ToArray();
            var b = Enumerable
                .Range(0, L)
                .Select(l => tensor(p.B[l], [o.Dims[l + 1], 1], ScalarType.Float64).requires_grad_(true))
                .ToArray();
            var table = Iterate("torch", () =>
            {
                using var scope = NewDisposeScope();
                return TorchStep(o, x, y, w, b);
            });
            if (o.ModelsDir is not null)
                Models.ModelFiles.SaveTensors(
                    Enumerable
                        .Range(0, L)
                        .SelectMany(l => new[] { ($"W{l + 1}", w[l]), ($"b{l + 1}", b[l]) })
                        .ToDictionary(e => e.Item1, e => e.Item2),
                    Path.Combine(o.ModelsDir, "network")
                );
            return table;
        }

        /// <summary>Up to o.Iterations steps, each returning J; a J that is not finite ends the run there.</summary>
        CostTable Iterate(string impl, Func<double> step)
        {
            var sw = Stopwatch.StartNew();
            var costs = new List<(int, double)>();
            for (int i = 0; i < o.Iterations; i++)
            {
                double cost = step();
                if (!double.IsFinite(cost))
                    return new CostTable(impl, costs, i, sw.Elapsed.TotalSeconds);
                if (i % o.PrintEvery == 0)
                {
                    costs.Add((i, cost));
                    log?.Invoke(both ? $"{impl + ":", -11}{CostLine(i, cost)}" : CostLine(i, cost));
                    progress?.Report($"{impl}: iteration {i}");
                }
            }
            return new CostTable(impl, costs, null, sw.Elapsed.TotalSeconds);
        }
    }

    /// <summary>
    /// One gradient-descent step with autograd: J, J.backward(), θ ← θ − η ∂J/∂θ under no_grad; returns J (not
    /// finite: no step). No collection during the step: TorchSharp's operators pass temporary Scalars (the alpha of
    /// every +) by handle without keeping them alive (Runtime/WithoutCollection.cs).
    /// </summary>
    static double TorchStep(VectorBackpropOptions o, Tensor x, Tensor y, Tensor[] w, Tensor[] b)
    {
        double cost = double.NaN;
        WithoutCollection.Run(() =>
        {
            var J = Gradients.VectorBackprop.Cost(Gradients.VectorBackprop.Forward(x, w, b).A[^1], y, w, o.Lambd);
            cost = J.item<double>();
            if (!double.IsFinite(cost))
                return;
            J.backward();
            using (no_grad())
                foreach (var θ in w.Concat(b))
                {
                    θ.add_(θ.grad!, alpha: -o.LearningRate); // θ ← θ − η ∂J/∂θ
                    θ.grad!.zero_();
                }
        });
        return cost;
    }

    /// <summary>The document's line, with NumPy's way of printing a float64 (8 digits after the point, trailing zeros
    /// dropped).</summary>
    public static string CostLine(int iteration, double cost) => $"cost after iteration {iteration}: {Numpy8(cost)}";

    public static string Numpy8(double v) => v.ToString("F8", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');

    public static VectorBackpropResult Run(
        VectorBackpropOptions o,
        IProgress<string>? progress = null,
        Action<string>? log = null
    )
    {
        o.Validate();
        var problem = Data(o);
        var tables = new List<CostTable>();
        int[] predictions = [];
        var runs = new Runs(o, problem, progress, log, both: o.Impl == Runtime.Impl.All);
        if (o.Impl is Runtime.Impl.All or Runtime.Impl.Reference)
        {
            var (t, net) = runs.Reference();
            tables.Add(t);
            if (t.DivergedAt is null)
                predictions = net.Predict(problem.MoreUniform(o.M), o.M);
        }
        if (o.Impl is Runtime.Impl.All or Runtime.Impl.Torch)
            tables.Add(runs.Torch());
        double? diff =
            tables.Count == 2 && tables.All(t => t.DivergedAt is null)
                ? tables[0]
                    .Costs.Zip(tables[1].Costs, (a, c) => Gradients.HandVsAutograd.RelError([a.Cost], [c.Cost]))
                    .Max()
                : null;
        return new VectorBackpropResult(o, tables, diff, predictions);
    }
}
