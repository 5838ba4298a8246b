using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>Hand-written backward formulas, right and wrong, as real TorchSharp autograd Functions (the golden script
/// has the same in Python).</summary>
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

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return x.sin();
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var x = ctx.get_saved_variables()[0];
            return [g * x.cos() + 1e-10 * randn(x.shape, x.dtype, generator: Noise)];
        }
    }
}

/// <summary>f(x) = 10x² with a backward 20x + 1.5e-5: smooth, a stationary point at 0, and a backward off by 1.5e-5
/// there (more than atol, less than the one-sided differences' spread ±1e-5 ± tolerance, so only the curvature test
/// tells it from a kink).</summary>
public sealed class QuadraticOffBy : SingleTensorFunction<QuadraticOffBy>
{
    public override string Name => nameof(QuadraticOffBy);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        ctx.save_for_backward([x]);
        return 10 * x * x;
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g) =>
        [g * (20 * ctx.get_saved_variables()[0] + 1.5e-5)];
}

/// <summary>sin with a backward that is right for x ≥ −1 and off by 0.5 below: wrong on part of the domain
/// only.</summary>
public sealed class SinWrongBelowMinusOne : SingleTensorFunction<SinWrongBelowMinusOne>
{
    public override string Name => nameof(SinWrongBelowMinusOne);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        ctx.save_for_backward([x]);
        return x.sin();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var x = ctx.get_saved_variables()[0];
        return [g * (x.cos() + 0.5 * (x < -1).to_type(x.dtype))];
    }
}
