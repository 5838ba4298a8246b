using System.Globalization;

namespace TorchLabs.Gradients;

/// <summary>How <see cref="GradCheck.Search(Func{Tensor[], Tensor[]}, long[][], SearchOptions?)"/> looks for a failing
/// input.</summary>
public sealed record SearchOptions
{
    /// <summary>How many points are checked at most (the structured ones first, then random ones).</summary>
    public int Trials { get; init; } = 100;

    /// <summary>The seed of the random points: the same seed, the same points.</summary>
    public ulong Seed { get; init; } = 0;

    /// <summary>The lower end of the box the points are drawn from, [Low, High] in every element.</summary>
    public double Low { get; init; } = -10;

    /// <summary>The upper end of the box.</summary>
    public double High { get; init; } = 10;

    /// <summary>The inputs' dtype (float64, as gradcheck wants).</summary>
    public ScalarType Dtype { get; init; } = ScalarType.Float64;

    /// <summary>The check made at every point.</summary>
    public GradCheckOptions Check { get; init; } = new();

    /// <summary>How many checks shrinking a counterexample may spend.</summary>
    public int ShrinkBudget { get; init; } = 400;
}

/// <summary>What a search found.</summary>
/// <param name="Pass">No point of the search failed (points that fail only at kinks, with a subgradient, do not
/// count).</param>
/// <param name="TrialsRun">How many points were checked before the first failure, or all of them.</param>
/// <param name="Counterexample">The failing inputs, shrunk toward the simplest (detached tensors); null when every
/// point passed.</param>
/// <param name="Failure">The check at the counterexample.</param>
public sealed record SearchResult(bool Pass, int TrialsRun, Tensor[]? Counterexample, GradCheckResult? Failure)
{
    /// <summary>"input 0 = [-1.5, 0, 0]", one line per input; "every point passed" when there is none.</summary>
    public string Describe() =>
        Counterexample is null
            ? $"every point passed ({TrialsRun} checked)"
            : string.Join("\n", Counterexample.Select((t, i) => $"input {i} = [{string.Join(", ", Values(t))}]"));

    static IEnumerable<string> Values(Tensor t) =>
        t.to_type(ScalarType.Float64)
            .data<double>()
            .ToArray()
            .Select(v => v.ToString("G6", CultureInfo.InvariantCulture));
}

public static partial class GradCheck
{
    /// <summary>
    /// Checks <paramref name="fn"/> at many points of a box instead of one: first structured points (all zeros, all +1,
    /// all −1, alternating signs, both corners of the box, then halves), then seeded random ones. The first point where
    /// the check fails (not only at kinks) is shrunk toward the simplest failing input: each element tried at 0, whole
    /// numbers, halves, then short decimals, keeping each change under which the check still fails. A backward wrong on
    /// part of the domain only (x &lt; −1, large |x|, one sign) passes PyTorch's single point and is found here.
    /// </summary>
    /// <param name="shapes">The shape of each input; every input requires grad.</param>
    public static SearchResult Search(Func<Tensor[], Tensor[]> fn, long[][] shapes, SearchOptions? options = null)
    {
        var o = options ?? new SearchOptions();
        if (!(o.Low < o.High) || !double.IsFinite(o.Low) || !double.IsFinite(o.High))
            throw new ArgumentException($"the box [{o.Low}, {o.High}] is not a finite interval");
        if (o.Trials < 1)
            throw new ArgumentOutOfRangeException(
                nameof(options),
                o.Trials,
                $"SearchOptions.Trials is {o.Trials}; expected at least 1 point"
            );
        if (o.ShrinkBudget < 0)
            throw new ArgumentOutOfRangeException(
                nameof(options),
                o.ShrinkBudget,
                $"SearchOptions.ShrinkBudget is {o.ShrinkBudget}; expected at least 0 checks"
            );
        for (int i = 0; i < shapes.Length; i++)
            if (shapes[i] is null || shapes[i].Any(d => d < 1))
                throw new ArgumentException(
                    $"the shape of input {i} is [{string.Join(", ", shapes[i] ?? [])}]; expected every dimension at least 1",
                    nameof(shapes)
                );
        o.Check.Validate();
        long[] sizes = [.. shapes.Select(s => s.Aggregate(1L, (a, b) => a * b))];
        using var generator = new Generator(o.Seed);
        for (int trial = 0; trial < o.Trials; trial++)
        {
            double[][] point = Point(trial, sizes, o, generator);
            if (Fails(fn, shapes, point, o) is not GradCheckResult failure)
                continue;
            var (shrunk, result) = Shrink(fn, shapes, point, failure, o);
            return new SearchResult(
                false,
                trial + 1,
                [.. shrunk.Select((v, i) => tensor(v, shapes[i], o.Dtype))],
                result
            );
        }
        return new SearchResult(true, o.Trials, null, null);
    }

    /// <summary><see cref="Search(Func{Tensor[], Tensor[]}, long[][], SearchOptions?)"/> over a module's input: the
    /// module's forward (and <paramref name="loss"/> of its output, if given), checked with respect to the
    /// input.</summary>
    public static SearchResult Search(
        nn.Module<Tensor, Tensor> module,
        long[] inputShape,
        Func<Tensor, Tensor>? loss = null,
        SearchOptions? options = null
    ) => Search(v => [loss is null ? module.call(v[0]) : loss(module.call(v[0]))], [inputShape], options);

    /// <summary>The structured points, before the random ones: all 0, +1, −1, alternating ±1, the box's upper and lower
    /// corners, then halves (+0.5, −0.5, alternating ±0.5, +1.5, −1.5): each value clamped into the box.</summary>
    static readonly Func<long, double>[] Structured =
    [
        _ => 0,
        _ => 1,
        _ => -1,
        i => i % 2 == 0 ? 1 : -1,
        _ => double.PositiveInfinity,
        _ => double.NegativeInfinity,
        _ => 0.5,
        _ => -0.5,
        i => i % 2 == 0 ? 0.5 : -0.5,
        _ => 1.5,
        _ => -1.5,
    ];

    /// <summary>The trial's point: the structured ones first, then uniform draws from the box.</summary>
    static double[][] Point(int trial, long[] sizes, SearchOptions o, Generator generator)
    {
        if (trial < Structured.Length)
            return
            [
                .. sizes.Select(n =>
                    Enumerable.Range(0, (int)n).Select(i => Math.Clamp(Structured[trial](i), o.Low, o.High)).ToArray()
                ),
            ];
        return
        [
            .. sizes.Select(n =>
            {
                using var u = rand([n], ScalarType.Float64, generator: generator);
                return u.data<double>().ToArray().Select(v => o.Low + (o.High - o.Low) * v).ToArray();
            }),
        ];
    }

    /// <summary>The check at <paramref name="point"/> when it fails by more than kinks; null when it passes.</summary>
    static GradCheckResult? Fails(Func<Tensor[], Tensor[]> fn, long[][] shapes, double[][] point, SearchOptions o)
    {
        var inputs = point.Select((v, i) => tensor(v, shapes[i], o.Dtype).requires_grad_(true)).ToArray();
        try
        {
            var r = Check(fn, inputs, o.Check);
            return r.Pass || r.OnlyKinks ? null : r;
        }
        finally
        {
            foreach (var t in inputs)
                t.Dispose();
        }
    }

    /// <summary>
    /// Simpler versions of <paramref name="point"/> that still fail, element by element, until no simpler value fails
    /// or the budget is spent. Simpler means, in this order: 0, whole numbers (smaller first), halves, one decimal, two
    /// decimals; a value is only ever replaced by a simpler one, so shrinking never heads for tiny magnitudes.
    /// </summary>
    static (double[][] Point, GradCheckResult Failure) Shrink(
        Func<Tensor[], Tensor[]> fn,
        long[][] shapes,
        double[][] point,
        GradCheckResult failure,
        SearchOptions o
    )
    {
        var x = point.Select(v => (double[])v.Clone()).ToArray();
        int budget = o.ShrinkBudget;
        for (bool changed = true; changed && budget > 0; )
        {
            changed = false;
            for (int k = 0; k < x.Length; k++)
            for (int i = 0; i < x[k].Length && budget > 0; i++)
            {
                double v = x[k][i];
                foreach (double candidate in Simpler(v))
                {
                    if (budget-- <= 0)
                        break;
                    x[k][i] = candidate;
                    if (Fails(fn, shapes, x, o) is GradCheckResult r)
                    {
                        failure = r;
                        changed = true;
                        break;
                    }
                    x[k][i] = v;
                }
            }
        }
        return (x, failure);
    }

    /// <summary>The values simpler than <paramref name="v"/> (see <see cref="Simplicity"/>), simplest first.</summary>
    static IEnumerable<double> Simpler(double v)
    {
        double[] candidates =
        [
            0,
            Math.CopySign(1, v),
            Math.Truncate(v / 2),
            Math.Truncate(v),
            Math.Round(v),
            Math.Round(v * 2) / 2,
            Math.Round(v, 1),
            Math.Round(v, 2),
        ];
        return candidates.Distinct().Where(c => Simplicity(c).CompareTo(Simplicity(v)) < 0).OrderBy(Simplicity);
    }

    /// <summary>How simple a value is, compared as a pair: its kind (0; whole; half; one decimal; two decimals; other),
    /// then its magnitude.</summary>
    static (int Kind, double Magnitude) Simplicity(double v)
    {
        int kind =
            v == 0 ? 0
            : v == Math.Round(v) ? 1
            : v * 2 == Math.Round(v * 2) ? 2
            : v == Math.Round(v, 1) ? 3
            : v == Math.Round(v, 2) ? 4
            : 5;
        return (kind, Math.Abs(v));
    }
}
