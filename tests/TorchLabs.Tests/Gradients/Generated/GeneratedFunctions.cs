using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients.Generated;

/// <summary>
/// The hand-written autograd Functions of scripts/golden/gradcheck_generated.py, by the same names: one right, the
/// others with a deliberate defect (a scaled backward, an ignored grad_output, NaN for x &lt; 0, a gradient of the
/// wrong shape, a backward that cannot take an undefined grad_output, a missing conjugate), and one with an output
/// marked non-differentiable.
/// </summary>
public static class GeneratedFunctions
{
    /// <summary>Applies the Function named <paramref name="name"/>; its outputs.</summary>
    public static Tensor[] Apply(string name, Tensor x) =>
        name switch
        {
            "fn_sin" => [FnSin.apply(x)],
            "fn_scaled" => [FnScaled.apply(x)],
            "fn_ignores_grad_output" => [FnIgnoresGradOutput.apply(x)],
            "fn_nan_where_negative" => [FnNanWhereNegative.apply(x)],
            "fn_wrong_shape" => [FnWrongShape.apply(x)],
            "fn_fails_on_undefined" => [FnFailsOnUndefined.apply(x)],
            "fn_csquare" => [SuiteFunctions.CSquare.apply(x)],
            "fn_csquare_missing_conj" => [SuiteFunctions.CSquareMissingConj.apply(x)],
            "fn_sincos_nd" => [.. FnSinCosNonDifferentiableCos.apply(x)],
            _ => throw new ArgumentException($"no generated Function named {name}"),
        };

    /// <summary>y = Forward(x), ∂L/∂x = Backward(x, g), x saved; with <see cref="Materialize"/> off, an undefined g
    /// arrives as an invalid tensor.</summary>
    public abstract class Unary<T> : SingleTensorFunction<T>
        where T : Unary<T>, new()
    {
        public override string Name => typeof(T).Name;
        protected virtual bool Materialize => true;

        protected virtual Tensor Forward(Tensor x) => x.sin();

        protected abstract Tensor Backward(Tensor x, Tensor g);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.set_materialize_grads(Materialize);
            ctx.save_for_backward([x]);
            return Forward(x);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g) =>
            [Backward(ctx.get_saved_variables()[0], g)];
    }

    public sealed class FnSin : Unary<FnSin>
    {
        protected override Tensor Backward(Tensor x, Tensor g) => g * x.cos();
    }

    public sealed class FnScaled : Unary<FnScaled>
    {
        protected override Tensor Backward(Tensor x, Tensor g) => 1.5 * g * x.cos();
    }

    public sealed class FnIgnoresGradOutput : Unary<FnIgnoresGradOutput>
    {
        protected override Tensor Backward(Tensor x, Tensor g) => x.cos();
    }

    public sealed class FnNanWhereNegative : Unary<FnNanWhereNegative>
    {
        protected override Tensor Backward(Tensor x, Tensor g) => where(x < 0, full_like(x, double.NaN), g * x.cos());
    }

    public sealed class FnWrongShape : Unary<FnWrongShape>
    {
        protected override Tensor Backward(Tensor x, Tensor g) => (g * x.cos()).sum().reshape(1, 1);
    }

    /// <summary>Python raises a RuntimeError on an undefined g; a C# backward must not throw (it would end the
    /// process), so it answers with a gradient of the wrong shape, which libtorch turns into a RuntimeError.</summary>
    public sealed class FnFailsOnUndefined : Unary<FnFailsOnUndefined>
    {
        protected override bool Materialize => false;

        protected override Tensor Backward(Tensor x, Tensor g) =>
            g.IsInvalid ? ones(x.numel() + 1, dtype: x.dtype) : g * x.cos();
    }

    /// <summary>(sin x, cos x) with cos marked non-differentiable.</summary>
    public sealed class FnSinCosNonDifferentiableCos : MultiTensorFunction<FnSinCosNonDifferentiableCos>
    {
        public override string Name => nameof(FnSinCosNonDifferentiableCos);

        public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            var c = x.cos();
            ctx.mark_non_differentiable([c]);
            return [x.sin(), c];
        }

        public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grads) =>
            [grads[0] * ctx.get_saved_variables()[0].cos()];
    }
}
