using TorchLabs.Models;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Labs;

/// <summary>
/// The tests' own hand backpropagation (the oracle of DeepStacksTests) through a <see cref="DeepStack"/> with its
/// linear head and mean cross-entropy over a batch (rows are examples): δ_head = (softmax(s) − onehot(y))/N; ∂L/∂a_L =
/// δ_head W_head; for i = L..1: ∂L/∂h_i = ∂L/∂a_i ⊙ φ′(h_i), ∂L/∂W_i = (∂L/∂h_i)ᵀ a_{i−1}, ∂L/∂a_{i−1} = (∂L/∂h_i) W_i
/// (+ ∂L/∂a_i in the residual stack, notes 003 eq. 75).
/// </summary>
public static class StackGradients
{
    /// <summary>φ′(h) given h: σ(1 − σ) for the sigmoid stacks, 1[h &gt; 0] for ReLU.</summary>
    static Tensor PhiPrime(DeepStack net, Tensor h) =>
        net.Kind == StackKind.Relu ? (h > 0).to_type(h.dtype) : h.sigmoid() * (1 - h.sigmoid());

    /// <summary>Returns ∂L/∂W_i and ∂L/∂a_i for i = 1..L (index 0 is layer 1).</summary>
    public static (Tensor[] dW, Tensor[] dA) Compute(DeepStack net, Tensor x, Tensor y)
    {
        using var _ = no_grad();
        int L = net.Depth;
        var a = new Tensor[L + 1];
        var h = new Tensor[L + 1];
        a[0] = x;
        for (int i = 1; i <= L; i++)
        {
            var layer = net.Layers[i - 1];
            h[i] = matmul(a[i - 1], layer.weight!.t()) + layer.bias!; // h_i = a_{i−1} W_iᵀ + b_i (rows)
            a[i] = net.Activation(h[i]) + (net.Residual ? a[i - 1] : zeros_like(h[i])); // a_i = φ(h_i) (+ a_{i−1})
        }
        var scores = matmul(a[L], net.Head.weight!.t()) + net.Head.bias!;
        long n = x.shape[0];
        var delta =
            // δ_head
            (nn.functional.softmax(scores, 1) - nn.functional.one_hot(y, scores.shape[1]).to_type(scores.dtype)) / n;
        var dA = new Tensor[L];
        var dW = new Tensor[L];
        var g = matmul(delta, net.Head.weight!); // ∂L/∂a_L = δ_head W_head
        for (int i = L; i >= 1; i--)
        {
            dA[i - 1] = g;
            var dh = g * PhiPrime(net, h[i]); // ∂L/∂h_i = ∂L/∂a_i ⊙ φ′(h_i)
            dW[i - 1] = matmul(dh.t(), a[i - 1]); // ∂L/∂W_i = (∂L/∂h_i)ᵀ a_{i−1}
            g = matmul(dh, net.Layers[i - 1].weight!) + (net.Residual ? g : zeros_like(g)); // ∂L/∂a_{i−1}
        }
        return (dW, dA);
    }
}
