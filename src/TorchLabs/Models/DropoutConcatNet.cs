using TorchSharp.Modules;

namespace TorchLabs.Models;

/// <summary>The intermediate values of one forward pass (notes 003 eqs. 1-7).</summary>
public sealed record DropoutConcatTrace(
    Tensor X,
    Tensor H1,
    Tensor A1,
    Tensor H2,
    Tensor M,
    Tensor A2,
    Tensor H3,
    Tensor YHat
);

/// <summary>
/// Notes 003 eqs. 1-8: h₁ = W₁ᵀx + b₁ (1), a₁ = ReLU(h₁) (2), h₂ = Concat(a₁, x) (3), m ~ Bernoulli (4), a₂ = h₂ ⊙ m
/// (5), h₃ = W₂ᵀa₂ + b₂ (6), ŷ = Softmax(h₃) (7), L = −yᵀ log ŷ (8). W₁ is d × s and W₂ is (s+d) × k, as the notes
/// write them. The mask multiplies without 1/(1−p) scaling, as eq. 5 says. Eq. 4 writes m ~ Bernoulli(p) while the text
/// says elements are zeroed "with probability p"; we follow the text (p is the drop probability, as in PyTorch), so mᵢ
/// = 1 with probability 1 − p. In eval mode no element is dropped and h₂ is scaled by 1 − p, the expectation of the
/// training-time mask.
/// </summary>
public sealed class DropoutConcatNet : nn.Module<Tensor, Tensor>
{
    public Parameter W1 { get; }
    public Parameter b1 { get; }
    public Parameter W2 { get; }
    public Parameter b2 { get; }
    public double P { get; }
    readonly Generator generator;

    public DropoutConcatNet(int d, int s, int k, double p, Generator generator, ScalarType dtype = ScalarType.Float64)
        : base(nameof(DropoutConcatNet))
    {
        if (d < 1 || s < 1 || k < 2)
            throw new ArgumentException("expected d >= 1, s >= 1 and k >= 2");
        if (!(p >= 0 && p < 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "expected a drop probability in [0, 1)");
        P = p;
        this.generator = generator;
        W1 = new Parameter(empty([d, s], dtype));
        b1 = new Parameter(empty([s], dtype));
        W2 = new Parameter(empty([s + d, k], dtype));
        b2 = new Parameter(empty([k], dtype));
        using (no_grad())
        {
            double bound1 = 1 / Math.Sqrt(d),
                bound2 = 1 / Math.Sqrt(s + d);
            W1.uniform_(-bound1, bound1, generator);
            b1.uniform_(-bound1, bound1, generator);
            W2.uniform_(-bound2, bound2, generator);
            b2.uniform_(-bound2, bound2, generator);
        }
        RegisterComponents();
    }

    /// <summary>A mask of s + d values, each 1 with probability 1 − p (eq. 4), drawn from the net's
    /// generator.</summary>
    public Tensor DrawMask() => bernoulli(full([W2.shape[0]], 1 - P, W2.dtype), generator);

    /// <summary>The forward pass with a given mask <paramref name="m"/> (eqs. 1-7); every intermediate is
    /// kept.</summary>
    public DropoutConcatTrace Trace(Tensor x, Tensor m) => Trace(x, m, W1, b1, W2, b2);

    /// <summary>Eqs. 1-7 for any weights (the gradient check passes its own leaves).</summary>
    public static DropoutConcatTrace Trace(Tensor x, Tensor m, Tensor W1, Tensor b1, Tensor W2, Tensor b2)
    {
        var h1 = matmul(W1.t(), x) + b1; // (1) h₁ = W₁ᵀx + b₁
        var a1 = nn.functional.relu(h1); // (2) a₁ = ReLU(h₁)
        var h2 = cat([a1, x], 0); // (3) h₂ = Concat(a₁, x)
        var a2 = h2 * m; // (5) a₂ = h₂ ⊙ m
        var h3 = matmul(W2.t(), a2) + b2; // (6) h₃ = W₂ᵀa₂ + b₂
        var yhat = nn.functional.softmax(h3, 0); // (7) ŷ = Softmax(h₃)
        return new DropoutConcatTrace(x, h1, a1, h2, m, a2, h3, yhat);
    }

    /// <summary>L = −yᵀ log ŷ (eq. 8).</summary>
    public static Tensor Loss(Tensor yhat, Tensor y) => -(y * yhat.log()).sum();

    /// <summary>ŷ for input x [d]: in training with a freshly drawn mask, in eval with h₂ scaled by 1 − p.</summary>
    public override Tensor forward(Tensor x) =>
        training ? Trace(x, DrawMask()).YHat : Trace(x, full([W2.shape[0]], 1 - P, W2.dtype)).YHat;
}
