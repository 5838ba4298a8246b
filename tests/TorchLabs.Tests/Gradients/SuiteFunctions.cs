using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// The functions of scripts/golden/gradcheck_suite.py, by the same names: libtorch compositions and hand-written
/// autograd Functions with right and wrong backward formulas (scaled, missing a term, transposed, right for one input
/// only, ignoring grad_output, noisy, modifying its input, wrong on the second output, wrong for one element, wrong
/// shape, no double backward).
/// </summary>
public static class SuiteFunctions
{
    // Made at each call: a static tensor would belong to the dispose scope of whichever test touched it first.
    static Tensor Labels => tensor(new long[] { 0, 3, 1 });
    static Tensor Index =>
        tensor(
            new long[,]
            {
                { 0, 2, 1 },
                { 1, 0, 0 },
            }
        );

    static Tensor Spd(Tensor M) => matmul(M, M.mT) + 3 * eye(M.shape[^1], dtype: ScalarType.Float64);

    public static readonly Dictionary<string, Func<Tensor[], Tensor[]>> ByName = new()
    {
        ["sin"] = v => [v[0].sin()],
        ["tanh_matvec"] = v => [matmul(v[0], v[1]).tanh()],
        ["unused_input"] = v => [v[0] * v[2]],
        ["constant_input"] = v => [v[0] * v[1] + v[1]],
        ["one_output_without_graph"] = v => [v[0].sin(), v[0].detach() * 3],
        ["no_output_with_graph"] = v => [v[0].detach() * 3],
        ["no_output_with_graph_constant"] = v => [ones(3)],
        ["non_contiguous"] = v => [v[0].sin() * arange(1, v[0].numel() + 1, ScalarType.Float64).reshape(v[0].shape)],
        ["expanded"] = v => [v[0].sin() * 2],
        ["zero_dim"] = v => [v[0].pow(3)],
        ["zero_dim_output"] = v => [v[0].pow(2).sum()],
        ["tuple_outputs"] = v => [v[0].sigmoid() * v[1], (v[0] * v[1]).sum()],
        ["cholesky"] = v => [linalg.cholesky(Spd(v[0]))],
        ["solve"] = v => [linalg.solve(Spd(v[0]), v[1])],
        ["svdvals"] = v => [linalg.svdvals(v[0])],
        ["eigvalsh"] = v => [linalg.eigvalsh(v[0] + v[0].mT)],
        ["cumprod"] = v => [v[0].cumprod(0)],
        ["sort"] = v => [v[0].sort().Values],
        ["gather"] = v => [v[0].gather(1, Index)],
        ["scatter_add"] = v => [v[0].scatter_add(1, Index, v[1])],
        ["where"] = v => [where(v[0] > 0, v[0] * v[0], v[0].sin())],
        ["logsumexp"] = v => [v[0].logsumexp(1)],
        ["atan2"] = v => [v[0].atan2(v[1])],
        ["pow_tensor_exponent"] = v => [(v[0].abs() + 0.5).pow(v[1])],
        ["cross_entropy"] = v => [nn.functional.cross_entropy(v[0], Labels)],
        ["layer_norm"] = v => [nn.functional.layer_norm(v[0], [4])],
        ["softmax_two_inputs"] = v => [(v[0] * v[1]).softmax(0)],
        ["relu_at_zero"] = v => [v[0].relu()],
        ["abs_at_zero"] = v => [v[0].abs()],
        ["sin_float32"] = v => [v[0].sin()],
        ["hand_sin"] = v => [SinCorrect.apply(v[0])],
        ["hand_sin_scaled"] = v => [SinScaled.apply(v[0])],
        ["hand_x_sin_x_missing_term"] = v => [XSinXMissingTerm.apply(v[0])],
        ["hand_matvec_transposed"] = v => [MatVecTransposed.apply(v[0], v[1])],
        ["hand_mul_wrong_second"] = v => [MulWrongSecond.apply(v[0], v[1])],
        ["hand_sin_ignores_grad_output"] = v => [SinIgnoresGradOutput.apply(v[0])],
        ["hand_sin_noisy"] = v => [SinNoisy.apply(v[0])],
        ["hand_sin_modifies_input"] = v => [SinModifiesInput.apply(v[0])],
        ["hand_sin_cos_wrong_second_output"] = v => [.. SinCosWrongSecondOutput.apply(v[0])],
        ["hand_sin_cos"] = v => [.. SinCosCorrect.apply(v[0])],
        ["hand_exp_wrong_first_element"] = v => [ExpWrongFirstElement.apply(v[0])],
        ["hand_sin_wrong_shape"] = v => [SinWrongShape.apply(v[0])],
        ["hand_cube"] = v => [CubeCorrect.apply(v[0])],
        ["hand_cube_detached_backward"] = v => [CubeDetachedBackward.apply(v[0])],
        ["ones_and_wrong"] = v => [ones(3), SinScaled.apply(v[0])],
        ["output_without_graph_first"] = v => [v[0].detach() * 3, v[0].sin()],
        ["hand_sin_float32_grad"] = v => [SinFloat32Grad.apply(v[0])],
        ["hand_relu_five_at_kink"] = v => [ReluFiveAtKink.apply(v[0])],
        ["hand_pole_zero_backward"] = v => [PoleZeroBackward.apply(v[0])],
        ["positive_part"] = v => [v[0][v[0] > 0] * 2],
        ["c_square"] = v => [v[0] * v[0]],
        ["c_exp"] = v => [v[0].exp()],
        ["c_log"] = v => [v[0].log()],
        ["c_div"] = v => [v[0] / v[1]],
        ["c_abs"] = v => [v[0].abs()],
        ["c_conj"] = v => [v[0].conj() * 1],
        ["c_real"] = v => [v[0].real * 1],
        ["c_imag"] = v => [v[0].imag * 1],
        ["c_angle"] = v => [v[0].angle()],
        ["r_to_c_polar"] = v => [polar(v[0].abs() + 0.5, v[1])],
        ["r_to_c_complex"] = v => [complex(v[0], v[0] * v[0])],
        ["c_to_r_abs_square"] = v => [(v[0] * v[0].conj()).real],
        ["c_matvec"] = v => [matmul(v[0], v[1])],
        ["c_mixed"] = v => [v[0] * v[1]],
        ["c_tuple"] = v => [v[0] * v[0], v[0].abs()],
        ["hand_c_square"] = v => [CSquare.apply(v[0])],
        ["hand_c_square_missing_conj"] = v => [CSquareMissingConj.apply(v[0])],
        ["hand_c_square_wrong_imag"] = v => [CSquareWrongImag.apply(v[0])],
        ["hand_c_mul_missing_conj"] = v => [CMulMissingConj.apply(v[0], v[1])],
    };

    /// <summary>sin with a backward that returns a float32 gradient for a float64 input.</summary>
    public sealed class SinFloat32Grad : Unary<SinFloat32Grad>
    {
        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) => (g * x.cos()).to_type(ScalarType.Float32);
    }

    /// <summary>relu with 5 at 0: outside the one-sided slopes [0, 1], a backward error and not a kink.</summary>
    public sealed class ReluFiveAtKink : Unary<ReluFiveAtKink>
    {
        protected override Tensor Forward(Tensor x) => x.relu();

        protected override Tensor Backward(Tensor x, Tensor g) =>
            g * where(x == 0, full_like(x, 5.0), (x > 0).to_type(x.dtype));
    }

    /// <summary>1 / (x − 0.5) with a backward of 0: near the pole the numerical derivative is huge (or infinite), never
    /// 0.</summary>
    public sealed class PoleZeroBackward : Unary<PoleZeroBackward>
    {
        protected override Tensor Forward(Tensor x) => 1 / (x - 0.5);

        protected override Tensor Backward(Tensor x, Tensor g) => zeros_like(g);
    }

    // ----- complex, in PyTorch's convention: the gradient is g · conj(f′(z)) for a holomorphic f -----

    public sealed class CSquare : Unary<CSquare>
    {
        protected override Tensor Forward(Tensor z) => z * z;

        protected override Tensor Backward(Tensor z, Tensor g) => g * (2 * z).conj();
    }

    /// <summary>g · f′(z): the conjugate missing.</summary>
    public sealed class CSquareMissingConj : Unary<CSquareMissingConj>
    {
        protected override Tensor Forward(Tensor z) => z * z;

        protected override Tensor Backward(Tensor z, Tensor g) => g * 2 * z;
    }

    /// <summary>Right real part, the imaginary part doubled.</summary>
    public sealed class CSquareWrongImag : Unary<CSquareWrongImag>
    {
        protected override Tensor Forward(Tensor z) => z * z;

        protected override Tensor Backward(Tensor z, Tensor g)
        {
            var right = g * (2 * z).conj();
            return complex(right.real, 2 * right.imag);
        }
    }

    /// <summary>z ⊙ w, right for z, the conjugate missing for w.</summary>
    public sealed class CMulMissingConj : Binary<CMulMissingConj>
    {
        protected override Tensor Forward(Tensor z, Tensor w) => z * w;

        protected override List<Tensor> Backward(Tensor z, Tensor w, Tensor g) => [g * w.conj(), g * z];
    }

    /// <summary>A one-input Function: y = Forward(x), ∂L/∂x = Backward(x, g), x saved for backward.</summary>
    public abstract class Unary<T> : SingleTensorFunction<T>
        where T : Unary<T>, new()
    {
        public override string Name => typeof(T).Name;
        protected abstract Tensor Forward(Tensor x);
        protected abstract Tensor Backward(Tensor x, Tensor g);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return Forward(x);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g) =>
            [Backward(ctx.get_saved_variables()[0], g)];
    }

    /// <summary>A two-input Function: y = Forward(x, y), [∂L/∂x, ∂L/∂y] = Backward(x, y, g), both inputs saved for
    /// backward.</summary>
    public abstract class Binary<T> : SingleTensorFunction<T>
        where T : Binary<T>, new()
    {
        public override string Name => typeof(T).Name;
        protected abstract Tensor Forward(Tensor x, Tensor y);
        protected abstract List<Tensor> Backward(Tensor x, Tensor y, Tensor g);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            Tensor x = (Tensor)vars[0],
                y = (Tensor)vars[1];
            ctx.save_for_backward([x, y]);
            return Forward(x, y);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var saved = ctx.get_saved_variables();
            return Backward(saved[0], saved[1], g);
        }
    }

    public sealed class SinCorrect : Unary<SinCorrect>
    {
        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) => g * x.cos();
    }

    /// <summary>Off by a factor of 2.</summary>
    public sealed class SinScaled : Unary<SinScaled>
    {
        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) => 2 * g * x.cos();
    }

    /// <summary>(x sin x)′ without the product rule's x cos x.</summary>
    public sealed class XSinXMissingTerm : Unary<XSinXMissingTerm>
    {
        protected override Tensor Forward(Tensor x) => x * x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) => g * x.sin();
    }

    /// <summary>Returns ∂y/∂x without multiplying by grad_output.</summary>
    public sealed class SinIgnoresGradOutput : Unary<SinIgnoresGradOutput>
    {
        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) => x.cos();
    }

    /// <summary>Right first derivative, but computed from a detached x: its own derivative (the second) is
    /// lost.</summary>
    public sealed class CubeDetachedBackward : Unary<CubeDetachedBackward>
    {
        protected override Tensor Forward(Tensor x) => x.pow(3);

        protected override Tensor Backward(Tensor x, Tensor g) => g * 3 * x.detach().pow(2);
    }

    public sealed class CubeCorrect : Unary<CubeCorrect>
    {
        protected override Tensor Forward(Tensor x) => x.pow(3);

        protected override Tensor Backward(Tensor x, Tensor g) => g * 3 * x.pow(2);
    }

    /// <summary>Sums the gradient to a scalar: the wrong shape.</summary>
    public sealed class SinWrongShape : Unary<SinWrongShape>
    {
        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) => (g * x.cos()).sum();
    }

    /// <summary>Right except for element 0, scaled by 1.5.</summary>
    public sealed class ExpWrongFirstElement : Unary<ExpWrongFirstElement>
    {
        protected override Tensor Forward(Tensor x) => x.exp();

        protected override Tensor Backward(Tensor x, Tensor g) =>
            g * x.exp() * cat([full([1], 1.5, ScalarType.Float64), ones(x.numel() - 1, ScalarType.Float64)]);
    }

    /// <summary>Scales its saved input in place during backward.</summary>
    public sealed class SinModifiesInput : Unary<SinModifiesInput>
    {
        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g)
        {
            var grad = g * x.cos();
            x.mul_(1.5);
            return grad;
        }
    }

    /// <summary>Adds 1e-7 noise to the gradient (seeded): two backward runs differ.</summary>
    public sealed class SinNoisy : Unary<SinNoisy>
    {
        public static Generator Noise { get; } = new(7);

        protected override Tensor Forward(Tensor x) => x.sin();

        protected override Tensor Backward(Tensor x, Tensor g) =>
            g * x.cos() + 1e-7 * randn(x.shape, x.dtype, generator: Noise);
    }

    /// <summary>y = A x with ∂L/∂x = A g instead of Aᵀg; A square.</summary>
    public sealed class MatVecTransposed : Binary<MatVecTransposed>
    {
        protected override Tensor Forward(Tensor A, Tensor x) => matmul(A, x);

        protected override List<Tensor> Backward(Tensor A, Tensor x, Tensor g) => [outer(g, x), matmul(A, g)];
    }

    /// <summary>x ⊙ y, right for x, wrong for y (g instead of g ⊙ x).</summary>
    public sealed class MulWrongSecond : Binary<MulWrongSecond>
    {
        protected override Tensor Forward(Tensor x, Tensor y) => x * y;

        protected override List<Tensor> Backward(Tensor x, Tensor y, Tensor g) => [g * y, g];
    }

    /// <summary>(sin x, cos x), the cos term with the wrong sign.</summary>
    public sealed class SinCosWrongSecondOutput : MultiTensorFunction<SinCosWrongSecondOutput>
    {
        public override string Name => nameof(SinCosWrongSecondOutput);

        public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return [x.sin(), x.cos()];
        }

        public override List<Tensor> backward(AutogradContext ctx, List<Tensor> g)
        {
            var x = ctx.get_saved_variables()[0];
            return [g[0] * x.cos() + g[1] * x.sin()];
        }
    }

    public sealed class SinCosCorrect : MultiTensorFunction<SinCosCorrect>
    {
        public override string Name => nameof(SinCosCorrect);

        public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return [x.sin(), x.cos()];
        }

        public override List<Tensor> backward(AutogradContext ctx, List<Tensor> g)
        {
            var x = ctx.get_saved_variables()[0];
            return [g[0] * x.cos() - g[1] * x.sin()];
        }
    }
}
