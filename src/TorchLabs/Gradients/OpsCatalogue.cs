using System.Globalization;
using F = TorchSharp.torch.nn.functional;

namespace TorchLabs.Gradients;

/// <summary>One libtorch operation to check: how to draw its inputs, the function, and the kinks its differentiable
/// inputs must avoid.</summary>
/// <param name="Inputs">Draws the inputs from a generator; those that are differentiated have requires_grad.</param>
/// <param name="Kinks">Points where the op is not differentiable in an input's value (0 for ReLU and |x|); values
/// closer than <see cref="OpsCatalogue.KinkGap"/> are nudged to that distance.</param>
/// <param name="Note">How the inputs keep away from non-differentiable points other than fixed kinks (ties, equal
/// pairs).</param>
public sealed record OpCase(
    string Name,
    string Category,
    Func<Generator, Tensor[]> Inputs,
    Func<Tensor[], Tensor> Fn,
    double[]? Kinks = null,
    string? Note = null
);

/// <summary>The verdict on one op: its input shapes and GradCheck's largest errors.</summary>
public sealed record OpCheck(
    string Name,
    string Category,
    string Shapes,
    double MaxAbsError,
    double MaxRelError,
    bool Pass,
    int Nudged,
    string? Note,
    string? Failure
);

/// <summary>
/// libtorch's own gradients, checked: <see cref="GradCheck.Check"/> (PyTorch's defaults) on TorchSharp operations in
/// float64 with random inputs from a seed. `torchlabs gradcheck ops`.
/// </summary>
public static class OpsCatalogue
{
    /// <summary>How far a differentiable input is kept from a kink: far beyond the central-difference step
    /// (1e-6).</summary>
    public const double KinkGap = 1e-3;

    static Tensor R(Generator g, params long[] shape) =>
        randn(shape, ScalarType.Float64, generator: g).requires_grad_(true);

    static Tensor Pos(Generator g, params long[] shape) =>
        (rand(shape, ScalarType.Float64, generator: g) + 0.5).requires_grad_(true);

    static Tensor Prob(Generator g, params long[] shape) =>
        (rand(shape, ScalarType.Float64, generator: g) * 0.8 + 0.1).requires_grad_(true);

    static Tensor Const(Generator g, params long[] shape) => randn(shape, ScalarType.Float64, generator: g);

    static Tensor Labels(Generator g, long n, long classes) => randint(0, classes, [n], generator: g);

    /// <summary>Distinct values at least 0.05 apart in random order: no ties for max, sort or pooling within the
    /// step.</summary>
    static Tensor Distinct(Generator g, params long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v =
            randperm(n, generator: g).to_type(ScalarType.Float64) * 0.1
            + rand([n], ScalarType.Float64, generator: g) * 0.05
            - n * 0.05;
        return v.reshape(shape).requires_grad_(true);
    }

    /// <summary>A target at least 0.1 from the input, element by element (L1 and Huber losses have a kink where they
    /// meet).</summary>
    static Tensor Apart(Generator g, Tensor input)
    {
        var sign = rand(input.shape, ScalarType.Float64, generator: g).gt(0.5).to_type(ScalarType.Float64) * 2 - 1;
        return input.detach() + sign * (0.1 + rand(input.shape, ScalarType.Float64, generator: g));
    }

    /// <summary>An input [3, 4] and a target <see cref="Apart"/> from it: the inputs of the kinked losses.</summary>
    static Tensor[] InputAndTarget(Generator g)
    {
        var x = R(g, 3, 4);
        return [x, Apart(g, x)];
    }

    const string TargetApart = "target at least 0.1 from the input";

    public static readonly OpCase[] All =
    [
        // elementwise
        new("add", "elementwise", g => [R(g, 3, 4), R(g, 4)], v => v[0] + v[1]),
        new("sub", "elementwise", g => [R(g, 3, 4), R(g, 3, 4)], v => v[0] - v[1]),
        new("mul", "elementwise", g => [R(g, 3, 4), R(g, 3, 1)], v => v[0] * v[1]),
        new("div", "elementwise", g => [R(g, 3, 4), Pos(g, 3, 4)], v => v[0] / v[1]),
        new("pow", "elementwise", g => [Pos(g, 5), R(g, 5)], v => v[0].pow(v[1])),
        new("exp", "elementwise", g => [R(g, 5)], v => v[0].exp()),
        new("log", "elementwise", g => [Pos(g, 5)], v => v[0].log()),
        new("sqrt", "elementwise", g => [Pos(g, 5)], v => v[0].sqrt()),
        new("rsqrt", "elementwise", g => [Pos(g, 5)], v => v[0].rsqrt()),
        new("reciprocal", "elementwise", g => [Pos(g, 5)], v => v[0].reciprocal()),
        new("sin", "elementwise", g => [R(g, 5)], v => v[0].sin()),
        new("cos", "elementwise", g => [R(g, 5)], v => v[0].cos()),
        new("atan2", "elementwise", g => [R(g, 5), Pos(g, 5)], v => v[0].atan2(v[1])),
        new("erf", "elementwise", g => [R(g, 5)], v => v[0].erf()),
        new("abs", "elementwise", g => [R(g, 6)], v => v[0].abs(), [0]),
        new("clamp", "elementwise", g => [R(g, 6)], v => v[0].clamp(-0.5, 0.5), [-0.5, 0.5]),
        new("where", "elementwise", g => [R(g, 6), R(g, 6), Const(g, 6)], v => where(v[2] > 0, v[0], v[1])),
        // activations
        new("sigmoid", "activation", g => [R(g, 6)], v => v[0].sigmoid()),
        new("tanh", "activation", g => [R(g, 6)], v => v[0].tanh()),
        new("relu", "activation", g => [R(g, 6)], v => F.relu(v[0]), [0]),
        new("leaky_relu", "activation", g => [R(g, 6)], v => F.leaky_relu(v[0], 0.01), [0]),
        new("elu", "activation", g => [R(g, 6)], v => F.elu(v[0], 1.0), [0]),
        new("gelu", "activation", g => [R(g, 6)], v => F.gelu(v[0])),
        new("silu", "activation", g => [R(g, 6)], v => F.silu(v[0])),
        new("softplus", "activation", g => [R(g, 6)], v => F.softplus(v[0])),
        new("hardtanh", "activation", g => [R(g, 6)], v => F.hardtanh(v[0]), [-1, 1]),
        // reductions
        new("sum", "reduction", g => [R(g, 3, 4)], v => v[0].sum([1])),
        new("mean", "reduction", g => [R(g, 3, 4)], v => v[0].mean([0])),
        new("prod", "reduction", g => [R(g, 5)], v => v[0].prod()),
        new(
            "max (dim)",
            "reduction",
            g => [Distinct(g, 3, 4)],
            v => v[0].max(1).values,
            Note: "distinct values: no ties"
        ),
        new("norm", "reduction", g => [R(g, 3, 4)], v => v[0].norm()),
        new("var", "reduction", g => [R(g, 3, 4)], v => v[0].var([1])),
        new("std", "reduction", g => [R(g, 3, 4)], v => v[0].std([1])),
        new("logsumexp", "reduction", g => [R(g, 3, 4)], v => v[0].logsumexp(1)),
        new("cumsum", "reduction", g => [R(g, 5)], v => v[0].cumsum(0)),
        new("cumprod", "reduction", g => [R(g, 5)], v => v[0].cumprod(0)),
        // linear algebra
        new("matmul", "linear algebra", g => [R(g, 3, 4), R(g, 4, 2)], v => matmul(v[0], v[1])),
        new("bmm", "linear algebra", g => [R(g, 2, 3, 4), R(g, 2, 4, 2)], v => bmm(v[0], v[1])),
        new("linear", "linear algebra", g => [R(g, 3, 4), R(g, 5, 4), R(g, 5)], v => F.linear(v[0], v[1], v[2])),
        new("outer", "linear algebra", g => [R(g, 3), R(g, 4)], v => outer(v[0], v[1])),
        new("einsum ij,jk->ik", "linear algebra", g => [R(g, 3, 4), R(g, 4, 2)], v => einsum("ij,jk->ik", v[0], v[1])),
        new(
            "inverse",
            "linear algebra",
            g => [(R(g, 3, 3).detach() + 3 * eye(3, dtype: ScalarType.Float64)).requires_grad_(true)],
            v => linalg.inv(v[0])
        ),
        new("det", "linear algebra", g => [R(g, 3, 3)], v => linalg.det(v[0])),
        // convolution and pooling
        new("conv1d", "convolution", g => [R(g, 1, 2, 7), R(g, 3, 2, 3), R(g, 3)], v => F.conv1d(v[0], v[1], v[2])),
        new(
            "conv2d",
            "convolution",
            g => [R(g, 1, 2, 5, 5), R(g, 3, 2, 3, 3), R(g, 3)],
            v => F.conv2d(v[0], v[1], v[2], padding: [1, 1])
        ),
        new(
            "conv_transpose2d",
            "convolution",
            g => [R(g, 1, 2, 3, 3), R(g, 2, 3, 2, 2)],
            v => F.conv_transpose2d(v[0], v[1])
        ),
        new(
            "max_pool2d",
            "pooling",
            g => [Distinct(g, 1, 2, 4, 4)],
            v => F.max_pool2d(v[0], [2, 2]),
            Note: "distinct values: no ties in a window"
        ),
        new(
            "max_pool1d",
            "pooling",
            g => [Distinct(g, 1, 2, 6)],
            v => F.max_pool1d(v[0], 2),
            Note: "distinct values: no ties in a window"
        ),
        new("avg_pool2d", "pooling", g => [R(g, 1, 2, 4, 4)], v => F.avg_pool2d(v[0], [2, 2])),
        new("adaptive_avg_pool2d", "pooling", g => [R(g, 1, 2, 5, 5)], v => F.adaptive_avg_pool2d(v[0], [2, 2])),
        // softmax
        new("softmax", "softmax", g => [R(g, 3, 4)], v => F.softmax(v[0], 1)),
        new("log_softmax", "softmax", g => [R(g, 3, 4)], v => F.log_softmax(v[0], 1)),
        // losses
        new("mse_loss", "loss", g => [R(g, 3, 4), R(g, 3, 4)], v => F.mse_loss(v[0], v[1])),
        new("l1_loss", "loss", InputAndTarget, v => F.l1_loss(v[0], v[1]), Note: TargetApart),
        new("smooth_l1_loss", "loss", InputAndTarget, v => F.smooth_l1_loss(v[0], v[1]), Note: TargetApart),
        new("huber_loss", "loss", InputAndTarget, v => F.huber_loss(v[0], v[1], 0.5), Note: TargetApart),
        new("cross_entropy", "loss", g => [R(g, 3, 5), Labels(g, 3, 5)], v => F.cross_entropy(v[0], v[1])),
        new("nll_loss", "loss", g => [R(g, 3, 5), Labels(g, 3, 5)], v => F.nll_loss(v[0], v[1])),
        new("binary_cross_entropy", "loss", g => [Prob(g, 6), Prob(g, 6)], v => F.binary_cross_entropy(v[0], v[1])),
        new(
            "kl_div",
            "loss",
            g => [R(g, 3, 4), R(g, 3, 4)],
            v => F.kl_div(F.log_softmax(v[0], 1), F.log_softmax(v[1], 1), log_target: true, reduction: nn.Reduction.Sum)
        ),
        // normalisation
        new(
            "layer_norm",
            "normalisation",
            g => [R(g, 2, 5), R(g, 5), R(g, 5)],
            v => F.layer_norm(v[0], [5], v[1], v[2])
        ),
        new(
            "batch_norm (training)",
            "normalisation",
            g => [R(g, 4, 3), R(g, 3), R(g, 3)],
            v => F.batch_norm(v[0], null, null, v[1], v[2], training: true)
        ),
        new(
            "group_norm",
            "normalisation",
            g => [R(g, 2, 4, 3), R(g, 4), R(g, 4)],
            v => F.group_norm(v[0], 2, v[1], v[2])
        ),
        new("normalize", "normalisation", g => [R(g, 3, 4)], v => F.normalize(v[0], 2.0, 1)),
        new(
            "cosine_similarity",
            "normalisation",
            g => [R(g, 3, 4), R(g, 3, 4)],
            v => F.cosine_similarity(v[0], v[1], 1)
        ),
        // indexing and shaping
        new("index_select", "indexing", g => [R(g, 4, 3)], v => v[0].index_select(0, tensor(new long[] { 2, 0, 2 }))),
        new(
            "gather",
            "indexing",
            g => [R(g, 3, 4)],
            v => v[0].gather(1, tensor(new long[] { 0, 3, 1, 1, 2, 0 }, [3, 2]))
        ),
        new("cat", "indexing", g => [R(g, 2, 3), R(g, 1, 3)], v => cat([v[0], v[1]], 0)),
        new("stack", "indexing", g => [R(g, 2, 3), R(g, 2, 3)], v => stack([v[0], v[1]], 1)),
        new("narrow", "indexing", g => [R(g, 4, 3)], v => v[0].narrow(0, 1, 2)),
        new("permute", "indexing", g => [R(g, 2, 3, 4)], v => v[0].permute(2, 0, 1)),
        new("reshape", "indexing", g => [R(g, 2, 6)], v => v[0].reshape(3, 4)),
        new("masked_fill", "indexing", g => [R(g, 6), Const(g, 6)], v => v[0].masked_fill(v[1] > 0, 0.0)),
        new(
            "pad (reflect)",
            "indexing",
            g => [R(g, 1, 2, 5)],
            v => F.pad(v[0], [2, 1], TorchSharp.PaddingModes.Reflect)
        ),
    ];

    /// <summary>Values of differentiable inputs within <see cref="KinkGap"/> of a kink moved to that distance; returns
    /// how many moved.</summary>
    static int Nudge(Tensor x, double[] kinks)
    {
        using var _ = no_grad();
        int moved = 0;
        foreach (double k in kinks)
        {
            var d = x - k;
            var near = d.abs() < KinkGap;
            moved += (int)near.sum().item<long>();
            var side = where(d >= 0, ones_like(d), -ones_like(d));
            x.copy_(where(near, k + KinkGap * side, x));
        }
        return moved;
    }

    /// <summary>Runs <see cref="GradCheck.Check"/> on every op (or the named ones) with inputs drawn from <paramref
    /// name="seed"/>.</summary>
    public static IReadOnlyList<OpCheck> Run(
        long seed,
        IEnumerable<string>? only = null,
        IProgress<string>? progress = null
    )
    {
        var names = only?.ToHashSet();
        if (names?.FirstOrDefault(n => !All.Any(o => o.Name == n)) is string unknown)
            throw new Runtime.UsageException(
                $"‹op› {unknown}: unknown operation; expected one of {string.Join(", ", All.Select(o => o.Name))}"
            );
        var results = new List<OpCheck>();
        foreach (var (op, index) in All.Select((o, i) => (o, i)))
        {
            if (names is not null && !names.Contains(op.Name))
                continue;
            progress?.Report($"gradcheck ops: {op.Name} ({index + 1}/{All.Length})");
            using var scope = NewDisposeScope();
            using var gen = new Generator((ulong)(seed * 1000 + index));
            var inputs = op.Inputs(gen);
            int nudged = op.Kinks is null ? 0 : inputs.Where(x => x.requires_grad).Sum(x => Nudge(x, op.Kinks));
            string shapes = string.Join(
                ", ",
                inputs.Select(x =>
                    x.dim() == 0 ? "scalar" : string.Join("×", x.shape) + (x.requires_grad ? "" : " (const)")
                )
            );
            var r = GradCheck.Check(v => [op.Fn(v)], inputs);
            string? note = op.Kinks is null
                ? op.Note
                : $"kinks at {string.Join(", ", op.Kinks.Select(k => k.ToString(CultureInfo.InvariantCulture)))}: {nudged} value(s) "
                    + $"nudged to {KinkGap:0E+0} away";
            results.Add(
                new OpCheck(
                    op.Name,
                    op.Category,
                    shapes,
                    r.MaxAbsError,
                    r.MaxRelError,
                    r.Pass,
                    nudged,
                    note,
                    r.Pass ? null : r.Failures[0].Split('\n')[0]
                )
            );
        }
        return results;
    }

    /// <summary>The JSON of `torchlabs gradcheck ops --format json`: {"ops": [{name, shapes, maxAbsError, maxRelError,
    /// pass, …}]}.</summary>
    public static object ToJson(IReadOnlyList<OpCheck> ops) =>
        new Dictionary<string, object>
        {
            ["ops"] = ops,
            ["count"] = ops.Count,
            ["passed"] = ops.Count(o => o.Pass),
        };
}
