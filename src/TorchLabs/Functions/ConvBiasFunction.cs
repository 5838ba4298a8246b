using static TorchSharp.torch.autograd;

namespace TorchLabs.Functions;

/// <summary>
/// The small CNN's convolution (notes 003 eq. 48), u₁ = W₁ ⋆ x + b₁ for one image x [C_in, H, W] and W₁ [C_out, C_in,
/// k, k], with the notes' untied bias b₁ [C_out, H_out, W_out] (eq. 49) or PyTorch's tied b₁ [C_out], as an autograd
/// Function whose backward is the notes': ∂L/∂b₁ = ∂L/∂u₁, summed over positions when tied (eq. 50); ∂L/∂W₁^(m,n) =
/// x^(n) ⋆ ∂L/∂u₁^(m), the valid cross-correlation of each input channel with each output channel's gradient (eq. 51);
/// and ∂L/∂x^(n) = Σₘ ∂L/∂u₁^(m) ∗ W₁^(m,n), the full convolution (the transposed convolution; the notes stop at W₁).
/// Written in differentiable ops, so it has a second derivative.
/// </summary>
public sealed class ConvBiasFunction : SingleTensorFunction<ConvBiasFunction>
{
    public override string Name => "ConvBias";

    /// <summary>u₁ = W₁ ⋆ x + b₁; the bias is tied when it has one value per output channel.</summary>
    public static Tensor Apply(Tensor x, Tensor W1, Tensor b1) => apply(x, W1, b1);

    static bool Tied(Tensor b1) => b1.dim() == 1;

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor x = (Tensor)vars[0],
            W1 = (Tensor)vars[1],
            b1 = (Tensor)vars[2];
        ctx.save_for_backward([x, W1, b1]);
        // (48) u₁ = W₁ ⋆ x + b₁
        return nn.functional.conv2d(x.unsqueeze(0), W1)[0] + (Tied(b1) ? b1.view(-1, 1, 1) : b1);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor dU1)
    {
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0],
            W1 = saved[1],
            b1 = saved[2];
        // (50) ∂L/∂b₁ = ∂L/∂u₁ (Σ over positions when tied)
        var db1 = Tied(b1) ? dU1.sum([1, 2]) : dU1;
        // (51) ∂L/∂W₁^(m,n) = x^(n) ⋆ ∂L/∂u₁^(m)
        var dW1 = nn.functional.conv2d(x.unsqueeze(1), dU1.unsqueeze(1)).transpose(0, 1);
        // ∂L/∂x^(n) = Σₘ ∂L/∂u₁^(m) ∗ W₁^(m,n) (full)
        var dX = nn.functional.conv_transpose2d(dU1.unsqueeze(0), W1)[0];
        return [dX, dW1, db1];
    }
}
