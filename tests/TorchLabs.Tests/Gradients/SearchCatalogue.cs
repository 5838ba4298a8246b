using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// Functions for GradCheck.Search: a catalogue of correct ones (libtorch's own backwards, many of them non-smooth:
/// sorts, order statistics, maxima over dims, pooling, relu/abs/clamp networks) on which a search must raise no alarm,
/// and hand-written backwards that are wrong on part of the domain only, which it must find.
/// </summary>
public static class SearchCatalogue
{
    public sealed record Case(string Name, Func<Tensor[], Tensor[]> Fn, long[][] Shapes);

    static Case C(string name, Func<Tensor, Tensor> f, params long[] shape) => new(name, v => [f(v[0])], [shape]);

    static Case C2(string name, Func<Tensor, Tensor, Tensor> f, long[] a, long[] b) =>
        new(name, v => [f(v[0], v[1])], [a, b]);

    static Tensor W(long seed, params long[] shape)
    {
        using var gen = new Generator((ulong)seed);
        return randn(shape, ScalarType.Float64, generator: gen);
    }

    /// <summary>At least 40 correct functions.</summary>
    public static IEnumerable<Case> Correct() =>
        [
            C("sort", x => x.sort().Values, 4),
            C("sort_descending", x => x.sort(descending: true).Values, 5),
            C("median", x => x.median(), 4),
            C("median_odd", x => x.median(), 5),
            C("lower_median_rows", x => x.sort(1).Values.select(1, 1), 2, 4),
            C("kthvalue", x => x.kthvalue(2, 0).values, 4),
            C("kthvalue_dim", x => x.kthvalue(3, 1).values, 2, 4),
            C("topk", x => x.topk(2, 0).values, 4),
            C("topk_smallest", x => x.topk(3, 0, largest: false).values, 5),
            C("max", x => x.max(), 4),
            C("min", x => x.min(), 4),
            C("max_dim0", x => x.max(0).values, 3, 2),
            C("min_dim1", x => x.min(1).values, 2, 3),
            C("amax", x => x.amax([1]), 2, 3),
            C("amin", x => x.amin([0]), 3, 2),
            C("cummax", x => x.cummax(0).values, 4),
            C("cummin", x => x.cummin(0).values, 4),
            C("max_pool1d", x => nn.functional.max_pool1d(x, 2), 1, 1, 6),
            C("max_pool2d", x => nn.functional.max_pool2d(x, 2), 1, 1, 4, 4),
            C("max_pool2d_stride1", x => nn.functional.max_pool2d(x, 2, 1), 1, 1, 3, 3),
            C("adaptive_max_pool2d", x => nn.functional.adaptive_max_pool2d(x, [1, 1]), 1, 2, 2, 2),
            C("relu", x => x.relu(), 4),
            C("abs", x => x.abs(), 4),
            C("clamp", x => x.clamp(-0.5, 0.5), 4),
            C("clamp_min", x => x.clamp_min(1), 4),
            C("hardtanh", x => nn.functional.hardtanh(x), 4),
            C("relu6", x => nn.functional.relu6(x), 4),
            C("leaky_relu", x => nn.functional.leaky_relu(x, 0.1), 4),
            C("maximum_with_zero", x => x.maximum(zeros_like(x)), 4),
            C("relu_sum", x => x.relu().sum(), 5),
            C("abs_sum", x => x.abs().sum(), 5),
            C("hinge", x => (1 - x).clamp_min(0).sum(), 4),
            C("relu_linear_relu", x => matmul(matmul(x, W(1, 3, 4)).relu(), W(2, 4, 2)).relu(), 2, 3),
            C("abs_network", x => matmul(matmul(x, W(3, 3, 3)).abs(), W(4, 3, 1)), 2, 3),
            C("clamp_network", x => matmul(x, W(5, 4, 3)).clamp(-1, 1).sum(1), 2, 4),
            C("relu_max", x => matmul(x, W(6, 3, 4)).relu().max(1).values, 2, 3),
            C("sort_of_relu", x => x.relu().sort().Values, 4),
            C("l1_norm", x => linalg.vector_norm(x, 1), 4),
            C("inf_norm", x => linalg.vector_norm(x, double.PositiveInfinity), 4),
            C("softplus_of_max", x => nn.functional.softplus(x.max(0).values), 3, 2),
            C("sin", x => x.sin(), 3),
            C("tanh_matmul", x => matmul(x, W(7, 3, 3)).tanh(), 2, 3),
            C2("maximum", (x, y) => x.maximum(y), [3], [3]),
            C2("minimum", (x, y) => x.minimum(y), [3], [3]),
            C2("x_times_y", (x, y) => x * y, [3], [3]),
            C2("where_greater", (x, y) => where(x > y, x, y), [3], [3]),
        ];

    /// <summary>A small CNN: conv → relu → max_pool2d → linear, in float64, its weights drawn from seeded
    /// generators.</summary>
    public static nn.Module<Tensor, Tensor> ConvNet()
    {
        var net = nn.Sequential(
            ("conv", nn.Conv2d(1, 2, 3)),
            ("relu", nn.ReLU()),
            ("pool", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(2 * 2 * 2, 3))
        );
        net.to(ScalarType.Float64);
        using var _ = no_grad();
        long seed = 11;
        foreach (var p in net.parameters())
            p.copy_(W(seed++, p.shape) * 0.5);
        return net;
    }

    /// <summary>sin with a backward off by 0.5 wherever <see cref="Region"/> holds.</summary>
    public abstract class SinWrongOn<T> : SingleTensorFunction<T>
        where T : SinWrongOn<T>, new()
    {
        public override string Name => typeof(T).Name;
        protected abstract Tensor Region(Tensor x);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return x.sin();
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var x = ctx.get_saved_variables()[0];
            return [g * (x.cos() + 0.5 * Region(x).to_type(x.dtype))];
        }
    }

    public sealed class SinWrongBeyondThree : SinWrongOn<SinWrongBeyondThree>
    {
        protected override Tensor Region(Tensor x) => x.abs() > 3;
    }

    public sealed class SinWrongAtWholeNumbers : SinWrongOn<SinWrongAtWholeNumbers>
    {
        protected override Tensor Region(Tensor x) => x == x.round();
    }

    public sealed class SinWrongAtHalves : SinWrongOn<SinWrongAtHalves>
    {
        protected override Tensor Region(Tensor x) => (x - x.floor()) == 0.5;
    }

    /// <summary>x·y with ∂/∂x right and ∂/∂y = x + 1 wherever y &lt; 0 (right elsewhere).</summary>
    public sealed class MulWrongForNegativeY : SingleTensorFunction<MulWrongForNegativeY>
    {
        public override string Name => nameof(MulWrongForNegativeY);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            Tensor x = (Tensor)vars[0],
                y = (Tensor)vars[1];
            ctx.save_for_backward([x, y]);
            return x * y;
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var s = ctx.get_saved_variables();
            return [g * s[1], g * (s[0] + (s[1] < 0).to_type(s[0].dtype))];
        }
    }

    /// <summary>The wrong-region backwards, with what a counterexample must show.</summary>
    public static IEnumerable<(Case Case, Func<double[][], bool> Shows)> Wrong() =>
        [
            (
                new(
                    "below_minus_one",
                    v => [SinWrongBelowMinusOne.apply(v[0])],
                    [
                        [3],
                    ]
                ),
                x => x[0].Any(e => e < -1)
            ),
            (
                new(
                    "beyond_three",
                    v => [SinWrongBeyondThree.apply(v[0])],
                    [
                        [3],
                    ]
                ),
                x => x[0].Any(e => Math.Abs(e) > 3)
            ),
            (
                new(
                    "whole_numbers",
                    v => [SinWrongAtWholeNumbers.apply(v[0])],
                    [
                        [3],
                    ]
                ),
                x => x[0].Any(e => e == Math.Round(e))
            ),
            (
                new(
                    "halves",
                    v => [SinWrongAtHalves.apply(v[0])],
                    [
                        [3],
                    ]
                ),
                x => x[0].Any(e => e - Math.Floor(e) == 0.5)
            ),
            (
                new(
                    "negative_y",
                    v => [MulWrongForNegativeY.apply(v[0], v[1])],
                    [
                        [2],
                        [2],
                    ]
                ),
                x => x[1].Any(e => e < 0)
            ),
        ];
}
