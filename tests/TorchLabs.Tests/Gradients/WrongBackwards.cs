using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>Hand-written backward formulas, right and wrong, as real TorchSharp autograd Functions (the golden script has the same in
/// Python).</summary>
public static class WrongBackwards
{
    public static readonly Dictionary<string, Func<Tensor[], Tensor[]>> ByName = new()
    {
        ["sin_correct"] = x => [SinCorrect.apply(x[0])],
        ["sin_twice"] = x => [SinTwice.apply(x[0])],
        ["x_sin_x_missing_term"] = x => [XSinXMissingTerm.apply(x[0])],
        ["matvec_transposed"] = x => [MatVecTransposed.apply(x[0], x[1])],
    };

    public sealed class SinCorrect : SingleTensorFunction<SinCorrect>
    {
        public override string Name => nameof(SinCorrect);
        public override Tensor forward(AutogradContext ctx,
            params object[] vars)
        { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x.sin(); }
        public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [g * ctx.get_saved_variables()[0].cos()];
    }

    /// <summary>Off by a factor of 2.</summary>
    public sealed class SinTwice : SingleTensorFunction<SinTwice>
    {
        public override string Name => nameof(SinTwice);
        public override Tensor forward(AutogradContext ctx,
            params object[] vars)
        { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x.sin(); }
        public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [2 * g * ctx.get_saved_variables()[0].cos()];
    }

    /// <summary>(x sin x)′ without the x cos x term.</summary>
    public sealed class XSinXMissingTerm : SingleTensorFunction<XSinXMissingTerm>
    {
        public override string Name => nameof(XSinXMissingTerm);
        public override Tensor forward(AutogradContext ctx,
            params object[] vars)
        { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x * x.sin(); }
        public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [g * ctx.get_saved_variables()[0].sin()];
    }

    /// <summary>y = A x with ∂L/∂x = A g instead of Aᵀg: a transposed Jacobian.</summary>
    public sealed class MatVecTransposed : SingleTensorFunction<MatVecTransposed>
    {
        public override string Name => nameof(MatVecTransposed);
        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            Tensor A = (Tensor)vars[0], x = (Tensor)vars[1];
            ctx.save_for_backward([A, x]);
            return matmul(A, x);
        }
        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var s = ctx.get_saved_variables();
            return [outer(g, s[1]), matmul(s[0], g)];
        }
    }

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
