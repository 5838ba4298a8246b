using static TorchSharp.torch.autograd;

namespace TorchLabs.Functions;

/// <summary>
/// The dropout/concat layer of notes 003 as an autograd Function: h₁ = W₁ᵀx + b₁ (1), a₁ = ReLU(h₁) (2), h₂ =
/// Concat(a₁, x) (3), a₂ = h₂ ⊙ m (5), for x [d], W₁ [d, s], b₁ [s] and a mask m [s + d]. Its backward is the notes'
/// derivation, eqs. 21–28 (with ReLU′(0) = 0, libtorch's choice; see <c>Gradients.DropoutConcatGradients</c>), plus
/// ∂L/∂m = h₂ ⊙ ∂L/∂a₂.
/// </summary>
public sealed class DropoutConcatFunction : SingleTensorFunction<DropoutConcatFunction>
{
    public override string Name => "DropoutConcat";

    /// <summary>a₂ = Concat(ReLU(W₁ᵀx + b₁), x) ⊙ m with the hand backward.</summary>
    public static Tensor Apply(Tensor x, Tensor W1, Tensor b1, Tensor m) => apply(x, W1, b1, m);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor x = (Tensor)vars[0],
            W1 = (Tensor)vars[1],
            b1 = (Tensor)vars[2],
            m = (Tensor)vars[3];
        ctx.save_for_backward([x, W1, b1, m]);
        var h1 = matmul(W1.t(), x) + b1; // (1) h₁ = W₁ᵀx + b₁
        var a1 = nn.functional.relu(h1); // (2) a₁ = ReLU(h₁)
        var h2 = cat([a1, x], 0); // (3) h₂ = Concat(a₁, x)
        return h2 * m; // (5) a₂ = h₂ ⊙ m
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor dA2)
    {
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0],
            W1 = saved[1],
            b1 = saved[2],
            m = saved[3];
        long s = W1.shape[1];
        var h1 = matmul(W1.t(), x) + b1; //     h₁ again (the backward is a function of the saved inputs)
        var h2 = cat([nn.functional.relu(h1), x], 0);
        var dH2 = m * dA2; // (21) ∂L/∂h₂ = m ⊙ ∂L/∂a₂
        var dA1 = dH2.narrow(0, 0, s); // (22) ∂L/∂a₁ = [I_s 0] ∂L/∂h₂
        var dH1 = (h1 > 0).to_type(h1.dtype) * dA1; // (23) ∂L/∂h₁ = ReLU′(h₁) ⊙ ∂L/∂a₁
        var dW1 = outer(x, dH1); // (26) ∂L/∂W₁ = x(∂L/∂h₁)ᵀ
        var db1 = dH1; // (27) ∂L/∂b₁ = ∂L/∂h₁
        var dX = matmul(W1, dH1) + dH2.narrow(0, s, x.shape[0]); // (28) ∂L/∂x = W₁ ∂L/∂h₁ + [0 I_d] ∂L/∂h₂
        var dM = h2 * dA2; //      ∂L/∂m = h₂ ⊙ ∂L/∂a₂
        return [dX, dW1, db1, dM];
    }
}
