using TorchLabs.Reference;
using TorchSharp.Modules;

namespace TorchLabs.Labs;

/// <summary>A problem both sides optimise: parameter tensors (their shapes and start) and the loss's gradient at any
/// point.</summary>
public sealed record ConformanceProblem(string Name, long[][] Shapes, double[] Start)
{
    /// <summary>Notes 001's f(x) = x₀²/20 + x₁², one parameter of two elements, from (x₀, x₁).</summary>
    public static ConformanceProblem F(double x0 = 3, double x1 = -2) =>
        new(
            "f",
            [
                [2],
            ],
            [x0, x1]
        );

    /// <summary>
    /// A fixed MLP 3 → 4 (tanh) → 2 with four parameter tensors (W₁ [4, 3], b₁ [4], W₂ [2, 4], b₂ [2]) and the mean
    /// squared error on five fixed samples: the values of scripts/golden/optim_conformance.py.
    /// </summary>
    public static ConformanceProblem Mlp()
    {
        var w1 = from i in Enumerable.Range(0, 4) from j in Enumerable.Range(0, 3) select 0.1 * Math.Sin(3 * i + j + 1);
        var b1 = Enumerable.Range(0, 4).Select(i => 0.05 * Math.Cos(i + 1));
        var w2 = from i in Enumerable.Range(0, 2) from j in Enumerable.Range(0, 4) select 0.2 * Math.Cos(4 * i + j + 2);
        var b2 = Enumerable.Range(0, 2).Select(i => 0.01 * (i + 1));
        return new(
            "mlp",
            [
                [4, 3],
                [4],
                [2, 4],
                [2],
            ],
            [.. w1, .. b1, .. w2, .. b2]
        );
    }

    static readonly double[] X =
    [
        .. from n in Enumerable.Range(0, 5) from k in Enumerable.Range(0, 3) select Math.Cos(0.7 * n + 0.3 * k),
    ];
    static readonly double[] Y =
    [
        .. from n in Enumerable.Range(0, 5) from k in Enumerable.Range(0, 2) select Math.Sin(0.5 * n + k),
    ];

    /// <summary>The loss at the parameters <paramref name="p"/> (float64 tensors), as the golden script computes
    /// it: f = x₀²/20 + x₁², or the MLP's mean squared error ((tanh(X W₁ᵀ + b₁) W₂ᵀ + b₂ − Y)²).mean(). Written with
    /// <see cref="KeptScalars"/> and x·x, without TorchSharp's temporary Scalars (<c>+</c>, <c>/ 20</c>,
    /// <c>square()</c>): the conformance tests compare every step.</summary>
    public Tensor Loss(IReadOnlyList<Tensor> p)
    {
        if (Name == "f")
        {
            Tensor x0 = p[0][0],
                x1 = p[0][1];
            return x0.mul(x0).Div_(20).Add(x1.mul(x1), 1);
        }
        using var x = tensor(X, [5, 3], ScalarType.Float64);
        using var y = tensor(Y, [5, 2], ScalarType.Float64);
        var hidden = tanh(x.matmul(p[0].t()).Add(p[1], 1));
        var r = hidden.matmul(p[2].t()).Add(p[3], 1).sub(y);
        return r.mul(r).mean();
    }

    /// <summary>∂loss/∂θ at the flat point θ, by autograd (float64).</summary>
    public double[] Gradient(double[] θ)
    {
        using var scope = NewDisposeScope();
        var p = Split(θ).Select(t => t.requires_grad_(true)).ToList();
        Loss(p).backward();
        return [.. p.SelectMany(t => t.grad!.data<double>().ToArray())];
    }

    /// <summary>The flat vector as this problem's parameter tensors (float64, fresh leaves).</summary>
    public List<Tensor> Split(double[] θ)
    {
        var list = new List<Tensor>();
        int at = 0;
        foreach (var shape in Shapes)
        {
            int n = (int)shape.Aggregate(1L, (a, b) => a * b);
            list.Add(tensor(θ.AsSpan(at, n).ToArray(), shape, ScalarType.Float64));
            at += n;
        }
        return list;
    }
}

/// <summary>
/// #28: TorchSharp's own optimizers (C# re-implementations in TorchSharp 0.107, src/TorchSharp/Optimizers) against hand
/// references of PyTorch's algorithms (<see cref="TorchOptimReference"/>) and PyTorch's numbers. Settings are PyTorch's
/// keyword names; what a setting leaves out takes PyTorch's default, passed to TorchSharp explicitly (its defaults
/// differ in places: docs/conformance.md).
/// </summary>
public static class Conformance
{
    /// <summary>PyTorch's defaults for the keywords TorchSharp's constructors take, where a setting does not give
    /// them.</summary>
    static readonly Dictionary<(string, string), double> PyTorchDefaults = new()
    {
        [("Adam", "lr")] = 1e-3,
        [("AdamW", "lr")] = 1e-3,
        [("AdamW", "weight_decay")] = 1e-2,
        [("Adamax", "lr")] = 2e-3,
        [("NAdam", "lr")] = 2e-3,
        [("RAdam", "lr")] = 1e-3,
        [("RMSprop", "lr")] = 1e-2,
        [("Rprop", "lr")] = 1e-2,
        [("Adagrad", "lr")] = 1e-2,
        [("Adadelta", "lr")] = 1.0,
        [("ASGD", "lr")] = 1e-2,
    };

    /// <summary>The keywords PyTorch has and TorchSharp 0.107's constructor lacks, per optimizer.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Lacking = new Dictionary<string, string[]>
    {
        ["Adamax"] = ["maximize"],
        ["Adagrad"] = ["maximize"],
    };

    /// <summary>A difference between TorchSharp and PyTorch that is TorchSharp's: where it starts and why.</summary>
    public sealed record Difference(int FirstStep, string Cause);

    /// <summary>
    /// The known upstream differences of TorchSharp 0.107's optimizers for the settings <paramref name="s"/> (null:
    /// none known): RAdam multiplies the rectified step by the learning rate twice (src/TorchSharp/Optimizers/RAdam.cs,
    /// line 182: <c>param.add_(t6 * lr * adaptive_lr * rect, alpha: -1.0)</c> with <c>t6 = bias_corrected_exp_avg *
    /// lr</c>; PyTorch: <c>param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)</c>), from the
    /// first step with ρ_t &gt; 5.
    /// </summary>
    public static Difference? KnownDifference(string name, OptimSettings s)
    {
        if (name != "RAdam" || s.Get("lr", 1e-3) == 1)
            return null;
        double β2 = s.Pair("betas", 0.9, 0.999).Item2,
            ρInf = 2 / (1 - β2) - 1;
        int t = 1;
        while (ρInf - 2 * t * Math.Pow(β2, t) / (1 - Math.Pow(β2, t)) <= 5)
            t++;
        return new Difference(
            t,
            "TorchSharp's RAdam multiplies the rectified step (ρ_t > 5) by lr twice: RAdam.cs line 182, `t6 * lr * adaptive_lr * rect` with `t6 = bias_corrected_exp_avg * lr` (docs/conformance.md, RAdam)"
        );
    }

    /// <summary>TorchSharp's optimizer <paramref name="name"/> over <paramref name="parameters"/>, with <paramref
    /// name="s"/>.</summary>
    public static optim.Optimizer CreateTorchSharp(string name, IEnumerable<Parameter> parameters, OptimSettings s)
    {
        if (
            Lacking.TryGetValue(name, out var lacks)
            && lacks.FirstOrDefault(k => s.Given.ContainsKey(k)) is string missing
        )
            throw new UsageException(
                $"{name}: TorchSharp 0.107's {name} has no {missing} (PyTorch's has); leave it out"
            );
        double Lr() => s.Get("lr", PyTorchDefaults.GetValueOrDefault((name, "lr"), double.NaN));
        var (β1, β2) = s.Pair("betas", 0.9, 0.999);
        var p = parameters.ToList();
        // One line per optimizer, its arguments in TorchSharp's order (a table, laid out by hand).
        // csharpier-ignore
        return name switch
        {
            "SGD" => optim.SGD(p, Lr(), s.Get("momentum", 0), s.Get("dampening", 0), s.Get("weight_decay", 0),
                s.Flag("nesterov"), s.Flag("maximize")),
            "Adam" => optim.Adam(p, Lr(), β1, β2, s.Get("eps", 1e-8), s.Get("weight_decay", 0), s.Flag("amsgrad"),
                s.Flag("maximize")),
            "AdamW" => optim.AdamW(p, Lr(), β1, β2, s.Get("eps", 1e-8), s.Get("weight_decay", 1e-2), s.Flag("amsgrad"),
                s.Flag("maximize")),
            "Adamax" => optim.Adamax(p, Lr(), β1, β2, s.Get("eps", 1e-8), s.Get("weight_decay", 0)),
            "NAdam" => optim.NAdam(p, Lr(), β1, β2, s.Get("eps", 1e-8), s.Get("weight_decay", 0),
                s.Get("momentum_decay", 4e-3)),
            "RAdam" => optim.RAdam(p, Lr(), β1, β2, s.Get("eps", 1e-8), s.Get("weight_decay", 0)),
            "RMSprop" => optim.RMSProp(p, Lr(), s.Get("alpha", 0.99), s.Get("eps", 1e-8), s.Get("weight_decay", 0),
                s.Get("momentum", 0), s.Flag("centered"), s.Flag("maximize")),
            "Rprop" => RpropOf(p, Lr(), s),
            "Adagrad" => optim.Adagrad(p, Lr(), s.Get("lr_decay", 0), s.Get("weight_decay", 0),
                s.Get("initial_accumulator_value", 0), s.Get("eps", 1e-10)),
            "Adadelta" => optim.Adadelta(p, Lr(), s.Get("rho", 0.9), s.Get("eps", 1e-6), s.Get("weight_decay", 0),
                s.Flag("maximize")),
            "ASGD" => optim.ASGD(p, Lr(), s.Get("lambd", 1e-4), s.Get("alpha", 0.75), s.Get("t0", 1e6),
                s.Get("weight_decay", 0), s.Flag("maximize")),
            _ => throw new UsageException(
                $"{name}: no such optimizer; expected one of {string.Join(", ", TorchOptimReference.Names)}"),
        };
    }

    static optim.Optimizer RpropOf(List<Parameter> p, double lr, OptimSettings s)
    {
        var (minus, plus) = s.Pair("etas", 0.5, 1.2);
        var (min, max) = s.Pair("step_sizes", 1e-6, 50);
        return optim.Rprop(p, lr, minus, plus, min, max, s.Flag("maximize"));
    }

    /// <summary>One optimizer run by TorchSharp and by the reference on a problem, side by side (`torchlabs conformance
    /// optimizer`).</summary>
    /// <param name="Cause">The known cause of a difference, or a request to report it; null when they agree.</param>
    public sealed record Comparison(
        string Optimizer,
        OptimSettings Settings,
        double[][] TorchSharp,
        double[][] Reference,
        double MaxRelDifference,
        int? FirstDifferentStep,
        string? Cause
    )
    {
        /// <summary>They differ, and no known difference explains it (a command exits 1: a finding to
        /// report).</summary>
        public bool Unexplained => FirstDifferentStep is not null && Cause == UnknownCause;
    }

    /// <summary>The cause of a difference no known one explains.</summary>
    public const string UnknownCause = "not a known difference: please report it with this command line";

    public static Comparison CompareOne(string name, OptimSettings s, ConformanceProblem problem, int steps)
    {
        var torchSharp = RunTorchSharp(name, s, problem, steps);
        var reference = RunReference(name, s, problem, steps);
        var (max, first) = Compare(torchSharp, reference);
        string? cause = first is null ? null : KnownDifference(name, s)?.Cause ?? UnknownCause;
        return new Comparison(name, s, torchSharp, reference, max, first, cause);
    }

    /// <summary>TorchSharp's optimizer for <paramref name="steps"/> steps on <paramref name="problem"/>: the flat point
    /// after each step, the start first.</summary>
    public static double[][] RunTorchSharp(string name, OptimSettings s, ConformanceProblem problem, int steps)
    {
        var parameters = problem.Split(problem.Start).Select(t => new Parameter(t)).ToList();
        try
        {
            using var opt = CreateTorchSharp(name, parameters, s);
            var points = new double[steps + 1][];
            points[0] = (double[])problem.Start.Clone();
            for (int k = 1; k <= steps; k++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                problem.Loss(parameters).backward();
                WithoutCollection.Run(() => opt.step());
                points[k] = [.. parameters.SelectMany(p => p.data<double>().ToArray())];
            }
            return points;
        }
        finally
        {
            foreach (var p in parameters)
                p.Dispose();
        }
    }

    /// <summary>The hand reference for <paramref name="steps"/> steps on <paramref name="problem"/>, the start
    /// first.</summary>
    public static double[][] RunReference(
        string name,
        OptimSettings s,
        ConformanceProblem problem,
        int steps,
        bool pyTorch113 = false
    )
    {
        var reference = TorchOptimReference.Create(name, s, pyTorch113);
        double[] θ = (double[])problem.Start.Clone();
        var points = new double[steps + 1][];
        points[0] = (double[])θ.Clone();
        for (int k = 1; k <= steps; k++)
        {
            reference.Step(θ, problem.Gradient(θ));
            points[k] = (double[])θ.Clone();
        }
        return points;
    }

    /// <summary>The largest relative difference over the steps, TorchLabs' one relative error
    /// (<see cref="Gradients.HandVsAutograd.RelError"/>: ‖a_t − b_t‖∞ / ‖b_t‖∞; a NaN counts as infinitely far), and
    /// the first step above <paramref name="tolerance"/> (null: none).</summary>
    public static (double Max, int? First) Compare(double[][] a, double[][] b, double tolerance = 1e-12)
    {
        double max = 0;
        int? first = null;
        for (int k = 0; k < Math.Min(a.Length, b.Length); k++)
        {
            // Both sides with the same numbers (an identical overflow to ±∞ or NaN included) agree; otherwise a NaN
            // difference is ∞.
            double rel = a[k].SequenceEqual(b[k]) ? 0 : Gradients.HandVsAutograd.RelError(a[k], b[k]);
            if (double.IsNaN(rel))
                rel = double.PositiveInfinity;
            max = Math.Max(max, rel);
            if (rel > tolerance && first is null)
                first = k;
        }
        return (max, first);
    }
}

/// <summary>The settings grid of `torchlabs conformance` (the same as scripts/golden/optim_conformance.py's), and its
/// table.</summary>
public static class ConformanceGrid
{
    static Dictionary<string, double[]> S(params (string Key, double[] Value)[] kv) =>
        kv.ToDictionary(p => p.Key, p => p.Value);

    static (string, double[]) K(string key, params double[] v) => (key, v);

    /// <summary>Every option of every optimizer TorchSharp 0.107 re-implements, at least once.</summary>
    public static readonly IReadOnlyList<(string Optimizer, Dictionary<string, double[]> Settings)> Optimizers =
    [
        ("SGD", S(K("lr", 0.1))),
        ("SGD", S(K("lr", 0.1), K("momentum", 0.9))),
        ("SGD", S(K("lr", 0.1), K("momentum", 0.9), K("dampening", 0.5))),
        ("SGD", S(K("lr", 0.1), K("momentum", 0.9), K("nesterov", 1))),
        ("SGD", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("SGD", S(K("lr", 0.05), K("momentum", 0.5), K("maximize", 1))),
        ("Adam", S(K("lr", 0.1))),
        ("Adam", S(K("lr", 0.1), K("betas", 0.8, 0.95))),
        ("Adam", S(K("lr", 0.1), K("amsgrad", 1))),
        ("Adam", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("Adam", S(K("lr", 0.1), K("maximize", 1))),
        ("Adam", S(K("lr", 0.1), K("eps", 1e-3))),
        ("Adam", S(K("lr", 0.1), K("weight_decay", 0.1), K("amsgrad", 1))),
        ("AdamW", S(K("lr", 0.1))),
        ("AdamW", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("AdamW", S(K("lr", 0.1), K("amsgrad", 1), K("betas", 0.8, 0.95))),
        ("AdamW", S(K("lr", 0.1), K("maximize", 1))),
        ("Adamax", S(K("lr", 0.1))),
        ("Adamax", S(K("lr", 0.1), K("betas", 0.8, 0.95))),
        ("Adamax", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("Adamax", S(K("lr", 0.1), K("eps", 1e-3))),
        ("NAdam", S(K("lr", 0.1))),
        ("NAdam", S(K("lr", 0.1), K("momentum_decay", 0.01))),
        ("NAdam", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("NAdam", S(K("lr", 0.1), K("betas", 0.8, 0.95))),
        ("RAdam", S(K("lr", 0.1))),
        ("RAdam", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("RAdam", S(K("lr", 0.1), K("betas", 0.8, 0.95))),
        ("RAdam", S(K("lr", 0.1), K("eps", 1e-3))),
        ("RMSprop", S(K("lr", 0.01))),
        ("RMSprop", S(K("lr", 0.01), K("alpha", 0.9))),
        ("RMSprop", S(K("lr", 0.01), K("centered", 1))),
        ("RMSprop", S(K("lr", 0.01), K("momentum", 0.5))),
        ("RMSprop", S(K("lr", 0.01), K("weight_decay", 0.1))),
        ("RMSprop", S(K("lr", 0.01), K("maximize", 1))),
        ("RMSprop", S(K("lr", 0.01), K("centered", 1), K("momentum", 0.5), K("eps", 1e-3))),
        ("Rprop", S(K("lr", 0.1))),
        ("Rprop", S(K("lr", 0.1), K("etas", 0.3, 1.5))),
        ("Rprop", S(K("lr", 0.1), K("step_sizes", 1e-3, 0.2))),
        ("Rprop", S(K("lr", 0.1), K("maximize", 1))),
        ("Adagrad", S(K("lr", 0.5))),
        ("Adagrad", S(K("lr", 0.5), K("lr_decay", 0.1))),
        ("Adagrad", S(K("lr", 0.5), K("initial_accumulator_value", 0.1))),
        ("Adagrad", S(K("lr", 0.5), K("weight_decay", 0.1))),
        ("Adagrad", S(K("lr", 0.5), K("eps", 1e-3))),
        ("Adadelta", S(K("lr", 1.0))),
        ("Adadelta", S(K("lr", 1.0), K("rho", 0.8))),
        ("Adadelta", S(K("lr", 1.0), K("eps", 1e-3))),
        ("Adadelta", S(K("lr", 1.0), K("weight_decay", 0.1))),
        ("Adadelta", S(K("lr", 1.0), K("maximize", 1))),
        ("ASGD", S(K("lr", 0.1))),
        ("ASGD", S(K("lr", 0.1), K("lambd", 1e-2))),
        ("ASGD", S(K("lr", 0.1), K("alpha", 0.5))),
        ("ASGD", S(K("lr", 0.1), K("t0", 5))),
        ("ASGD", S(K("lr", 0.1), K("weight_decay", 0.1))),
        ("ASGD", S(K("lr", 0.1), K("maximize", 1))),
        ("ASGD", S(K("lr", 0.1), K("lambd", 1e-2), K("alpha", 0.5), K("t0", 5))),
    ];

    /// <summary>One optimizer's line: settings tried (each on f for 25 steps and on the MLP for 15), the largest
    /// difference of TorchSharp from the reference, and the verdict.</summary>
    public sealed record Row(string Component, int Settings, int Steps, double MaxDifference, string Verdict);

    public static IReadOnlyList<Row> Run(IProgress<string>? progress = null)
    {
        var rows = new List<Row>();
        foreach (var group in Optimizers.GroupBy(g => g.Optimizer))
        {
            progress?.Report($"conformance: {group.Key}");
            double max = 0;
            var causes = new HashSet<string>();
            foreach (var (name, settings) in group)
            foreach (var (problem, steps) in new[] { (ConformanceProblem.F(), 25), (ConformanceProblem.Mlp(), 15) })
            {
                var s = new OptimSettings(settings);
                var (m, first) = Conformance.Compare(
                    Conformance.RunTorchSharp(name, s, problem, steps),
                    Conformance.RunReference(name, s, problem, steps)
                );
                max = Math.Max(max, m);
                if (first is not null)
                    causes.Add(Conformance.KnownDifference(name, s)?.Cause ?? $"unexplained, from step {first}");
            }
            string verdict = causes.Count == 0 ? "agrees" : "differs: " + string.Join("; ", causes);
            rows.Add(new Row(group.Key, group.Count(), 25 + 15, max, verdict));
        }
        return rows;
    }
}
