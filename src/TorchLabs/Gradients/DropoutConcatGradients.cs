using TorchLabs.Models;

namespace TorchLabs.Gradients;

/// <summary>The eleven derivatives of notes 003 eq. 9, in the order the notes list them.</summary>
public sealed record DropoutConcatGrads(
    Tensor dYHat,
    Tensor dH3,
    Tensor dW2,
    Tensor db2,
    Tensor dA2,
    Tensor dH2,
    Tensor dA1,
    Tensor dH1,
    Tensor dW1,
    Tensor db1,
    Tensor dX
)
{
    public static readonly string[] Names =
    [
        "dL/dyhat",
        "dL/dh3",
        "dL/dW2",
        "dL/db2",
        "dL/da2",
        "dL/dh2",
        "dL/da1",
        "dL/dh1",
        "dL/dW1",
        "dL/db1",
        "dL/dx",
    ];
    public Tensor[] All => [dYHat, dH3, dW2, db2, dA2, dH2, dA1, dH1, dW1, db1, dX];
}

/// <summary>Notes 003 eqs. 10-28: the hand derivation of the dropout/concat network, as matrix formulas.</summary>
public static class DropoutConcatGradients
{
    /// <summary>
    /// Every derivative of L = −yᵀ log ŷ, one line per equation. ReLU′ is 1 where h₁ &gt; 0 and 0 elsewhere, libtorch's
    /// choice at the kink; the notes' diag((1 + sgn h₁)/2) (eq. 23) would give 1/2 at h₁ = 0.
    /// </summary>
    public static DropoutConcatGrads Compute(DropoutConcatTrace t, Tensor W1, Tensor W2, Tensor y)
    {
        long s = W1.shape[1];
        var dYHat = -y / t.YHat; // (10) ∂L/∂ŷ = −y ⊘ ŷ
        var dH3 = t.YHat - y; // (15) ∂L/∂h₃ = ŷ − y
        var dW2 = outer(t.A2, dH3); // (18) ∂L/∂W₂ = a₂(ŷ − y)ᵀ
        var db2 = dH3.clone(); // (19) ∂L/∂b₂ = ŷ − y
        var dA2 = matmul(W2, dH3); // (20) ∂L/∂a₂ = W₂(ŷ − y)
        var dH2 = t.M * dA2; // (21) ∂L/∂h₂ = m ⊙ [W₂(ŷ − y)]
        var dA1 = dH2.narrow(0, 0, s); // (22) ∂L/∂a₁ = [I_s 0] ∂L/∂h₂
        var dH1 = (t.H1 > 0).to_type(t.H1.dtype) * dA1; // (23) ∂L/∂h₁ = ReLU′(h₁) ⊙ ∂L/∂a₁
        var dW1 = outer(t.X, dH1); // (26) ∂L/∂W₁ = x(∂L/∂h₁)ᵀ
        var db1 = dH1.clone(); // (27) ∂L/∂b₁ = ∂L/∂h₁
        var dX = matmul(W1, dH1) + dH2.narrow(0, s, t.X.shape[0]); // (28) ∂L/∂x = W₁ ∂L/∂h₁ + [0 I_d] ∂L/∂h₂
        return new DropoutConcatGrads(dYHat, dH3, dW2, db2, dA2, dH2, dA1, dH1, dW1, db1, dX);
    }
}
