using static TorchSharp.torch.autograd;

namespace TorchLabs.Functions;

/// <summary>
/// One MLP layer, a = σ(z), z = W h + b (batched: z = h Wᵀ + b for h [N, n_in]), as an autograd Function whose backward
/// is the delta recursion of notes 000/001 Q1 and notes 002: δ = ∂L/∂a ⊙ σ′(z), ∂L/∂W = δᵀh (δ hᵀ for one sample),
/// ∂L/∂b = Σₙ δₙ, and ∂L/∂h = δ W — which the layer below multiplies by its own σ′, giving δ⁽ˡ⁾ = σ′(z⁽ˡ⁾) ⊙
/// (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾. σ comes from <see cref="Activations"/> by name ("identity" for none). Written in differentiable ops
/// on the saved inputs, so the backward has a second derivative.
/// </summary>
public sealed class LinearActivationFunction : SingleTensorFunction<LinearActivationFunction>
{
    public override string Name => "LinearActivation";

    /// <summary>σ(h Wᵀ + b) with the hand backward; <paramref name="activation"/> is a name of <see
    /// cref="Activations.All"/> or "identity".</summary>
    public static Tensor Apply(Tensor h, Tensor W, Tensor b, string activation)
    {
        Activations.Find(activation); // an unknown name is rejected before the graph is built
        return apply(h, W, b, activation);
    }

    // z = W h + b
    static Tensor Z(Tensor h, Tensor W, Tensor b) => h.dim() == 1 ? matmul(W, h) + b : matmul(h, W.t()) + b;

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor h = (Tensor)vars[0],
            W = (Tensor)vars[1],
            b = (Tensor)vars[2];
        string activation = (string)vars[3];
        ctx.save_for_backward([h, W, b]);
        ctx.save_data("activation", activation);
        var z = Z(h, W, b);
        return Activations.Find(activation).Torch(z); // a = σ(z)
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var saved = ctx.get_saved_variables();
        Tensor h = saved[0],
            W = saved[1],
            b = saved[2];
        string activation = (string)ctx.get_data("activation");
        var z = Z(h, W, b);
        var delta = g * Activations.Find(activation).TorchDerivative(z); // δ = ∂L/∂a ⊙ σ′(z)
        var dW = h.dim() == 1 ? outer(delta, h) : matmul(delta.t(), h); // ∂L/∂W = δ hᵀ
        var db = h.dim() == 1 ? delta : delta.sum([0]); // ∂L/∂b = Σₙ δₙ
        var dh = matmul(delta, W); // ∂L/∂h = Wᵀδ (δ W in rows)
        return [dh, dW, db, null!];
    }
}
