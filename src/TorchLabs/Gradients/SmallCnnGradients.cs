using TorchLabs.Models;

namespace TorchLabs.Gradients;

/// <summary>The derivatives of the small CNN's loss (notes 003 eqs. 38-51).</summary>
public sealed record SmallCnnGrads(
    Tensor dH2,
    Tensor dW2,
    Tensor db2,
    Tensor dU2,
    Tensor dA1,
    Tensor dH1,
    Tensor dU1,
    Tensor db1,
    Tensor dW1
)
{
    public static readonly string[] Names =
    [
        "dL/dh2",
        "dL/dW2",
        "dL/db2",
        "dL/du2",
        "dL/da1",
        "dL/dh1",
        "dL/du1",
        "dL/db1",
        "dL/dW1",
    ];
    public Tensor[] All => [dH2, dW2, db2, dU2, dA1, dH1, dU1, db1, dW1];
}

/// <summary>Notes 003 eqs. 38-51: the hand derivation of the small CNN.</summary>
public static class SmallCnnGradients
{
    public static SmallCnnGrads Compute(SmallCnnTrace t, Tensor W2, Tensor y, int pool, bool tiedBias)
    {
        var dH2 = t.YHat - y; // (38) ∂L/∂h₂ = ŷ − y (the notes write a₂ where u₂ is meant)
        var dW2 = outer(t.U2, dH2); // (39) ∂L/∂W₂ = u₂(ŷ − y)ᵀ
        var db2 = dH2.clone(); //      ∂L/∂b₂ = ŷ − y
        var dU2 = matmul(W2, dH2); // (40) ∂L/∂u₂ = W₂(ŷ − y)
        var dA1 = dU2.view(t.A1.shape); // (43) ∂L/∂a₁^(i,j,k) = W₂^(n(i,j,k),:)(ŷ − y): Flatten undone
        var dH1 = (t.H1 > 0).to_type(t.H1.dtype) * dA1; // (45) ∂L/∂h₁ = ReLU′(h₁) ⊙ ∂L/∂a₁ (ReLU′(0) = 0, libtorch's)
        var dU1 = Unpool(t.U1, dH1, pool); // (46-47) each window's gradient goes to the position of its maximum
        // (50) ∂L/∂b₁ = ∂L/∂u₁ untied; summed over positions when tied
        var db1 = tiedBias ? dU1.sum([1, 2]) : dU1.clone();
        // (51) ∂L/∂W₁^(m,n) = rot180(conv2(x^(n), rot180(∂L/∂u₁^(m)), 'valid')) = x^(n) ⋆ ∂L/∂u₁^(m)
        var dW1 = CrossCorrelateValid(t.X, dU1);
        return new SmallCnnGrads(dH2, dW2, db2, dU2, dA1, dH1, dU1, db1, dW1);
    }

    /// <summary>Eqs. 46-47: ∂L/∂u₁ is zero but at the arg-max of each N × N window, where it is ∂L/∂h₁ of that
    /// window.</summary>
    public static Tensor Unpool(Tensor u1, Tensor dH1, int n)
    {
        long c = u1.shape[0],
            h = u1.shape[1],
            w = u1.shape[2],
            hmp = dH1.shape[1],
            wmp = dH1.shape[2];
        double[] u = GradCheck.Values(u1),
            g = GradCheck.Values(dH1);
        var du = new double[u.Length];
        for (long ch = 0; ch < c; ch++)
        for (long r = 0; r < hmp; r++)
        for (long s = 0; s < wmp; s++)
        {
            long best = -1;
            for (long p = r * n; p < r * n + n; p++)
            for (long q = s * n; q < s * n + n; q++)
            {
                long idx = (ch * h + p) * w + q;
                if (best < 0 || u[idx] > u[best])
                    best = idx; // first maximum wins, as libtorch's
            }
            du[best] += g[(ch * hmp + r) * wmp + s];
        }
        return tensor(du, [c, h, w], ScalarType.Float64);
    }

    /// <summary>∂L/∂W₁[m, n, a, b] = Σ_{p,q} x[n, p + a, q + b] · G[m, p, q]: the valid cross-correlation of x with G =
    /// ∂L/∂u₁.</summary>
    public static Tensor CrossCorrelateValid(Tensor x, Tensor G)
    {
        long cin = x.shape[0],
            h = x.shape[1],
            w = x.shape[2],
            cout = G.shape[0],
            hout = G.shape[1],
            wout = G.shape[2];
        long k = h - hout + 1;
        double[] xv = GradCheck.Values(x),
            gv = GradCheck.Values(G);
        var dw = new double[cout * cin * k * k];
        for (long m = 0; m < cout; m++)
        for (long n = 0; n < cin; n++)
        for (long a = 0; a < k; a++)
        for (long b = 0; b < k; b++)
        {
            double s = 0;
            for (long p = 0; p < hout; p++)
            for (long q = 0; q < wout; q++)
                s += xv[(n * h + p + a) * w + q + b] * gv[(m * hout + p) * wout + q];
            dw[((m * cin + n) * k + a) * k + b] = s;
        }
        return tensor(dw, [cout, cin, k, k], ScalarType.Float64);
    }
}
