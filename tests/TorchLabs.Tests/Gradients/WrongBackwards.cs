using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>Hand-written backward formulas, right and wrong, as real TorchSharp autograd Functions (the golden script has the same in
/// Python).</summary>
public static class WrongBackwards
{
    public static readonly Dictionary<string, Func<Tensor[], Tensor[]>> ByName = new()
    {
        // The same Functions as the side-by-side suite's (SuiteFunctions), by the names of autograd_functional.py.
        ["sin_correct"] = x => [SuiteFunctions.SinCorrect.apply(x[0])],
        ["sin_twice"] = x => [SuiteFunctions.SinScaled.apply(x[0])],
        ["x_sin_x_missing_term"] = x => [SuiteFunctions.XSinXMissingTerm.apply(x[0])],
        ["matvec_transposed"] = x => [SuiteFunctions.MatVecTransposed.apply(x[0], x[1])],
    };

    /// <summary>sin with a backward that adds noise from <see cref="Noise"/>: two runs of backward differ.</summary>
    public sealed class NoisySin : SingleTensorFunction<NoisySin>
    {
        public static Generator Noise { get; set; } = new(7);
        public override string Name => nameof(NoisySin);
        public override Tensor forward(AutogradContext ctx,
            params object[] vars)
        { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x.sin(); }
        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var x = ctx.get_saved_variables()[0];
            return [g * x.cos() + 1e-10 * randn(x.shape, x.dtype, generator: Noise)];
        }
    }

    /// <summary>sin whose backward scales its saved input in place: the input is modified by backward.</summary>
    public sealed class SinModifiesInput : SingleTensorFunction<SinModifiesInput>
    {
        public override string Name => nameof(SinModifiesInput);
        public override Tensor forward(AutogradContext ctx,
            params object[] vars)
        { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x.sin(); }
        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var x = ctx.get_saved_variables()[0];
            var grad = g * x.cos();
            x.mul_(1.5);
            return [grad];
        }
    }
}

/// <summary>f(x) = 1/(x − c) with c = 1 and a backward that returns 0: near the pole a central difference is ±∞, which must never
/// count as close to the finite 0 (PyTorch's gradcheck fails it).</summary>
public sealed class PoleWithZeroBackward : SingleTensorFunction<PoleWithZeroBackward>
{
    public override string Name => nameof(PoleWithZeroBackward);
    public override Tensor forward(AutogradContext ctx, params object[] vars) => ((Tensor)vars[0] - 1).reciprocal();
    public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [zeros_like(g)];
}

/// <summary>relu with a backward of 5 at exactly 0, outside the one-sided slopes [0, 1]: a backward error even at the kink.</summary>
public sealed class ReluFiveAtZero : SingleTensorFunction<ReluFiveAtZero>
{
    public override string Name => nameof(ReluFiveAtZero);
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x.relu(); }
    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var x = ctx.get_saved_variables()[0];
        return [g * where(x.eq(0), full_like(x, 5), (x > 0).to_type(x.dtype))];
    }
}

/// <summary>f(x) = 10x² with a backward 20x + 1.5e-5: smooth, a stationary point at 0, and a backward off by 1.5e-5 there (more
/// than atol, less than the one-sided differences' spread ±1e-5 ± tolerance, so only the curvature test tells it from a kink).</summary>
public sealed class QuadraticOffBy : SingleTensorFunction<QuadraticOffBy>
{
    public override string Name => nameof(QuadraticOffBy);
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return 10 * x * x; }
    public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [g * (20 * ctx.get_saved_variables()[0] + 1.5e-5)];
}

/// <summary>sin with a backward that is right for x ≥ −1 and off by 0.5 below: wrong on part of the domain only.</summary>
public sealed class SinWrongBelowMinusOne : SingleTensorFunction<SinWrongBelowMinusOne>
{
    public override string Name => nameof(SinWrongBelowMinusOne);
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x.sin(); }
    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var x = ctx.get_saved_variables()[0];
        return [g * (x.cos() + 0.5 * (x < -1).to_type(x.dtype))];
    }
}
