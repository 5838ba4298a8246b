namespace TorchLabs.Gradients;

/// <summary>
/// Notes 004's vector-form backpropagation: Z_l = W_l A_{l−1} + b_l, A_l = ReLU(Z_l) for hidden layers and σ(Z_L) at
/// the output; J = −(1/m)[log(A_L) Yᵀ + log(1 − A_L)(1 − Y)ᵀ] + (λ/2m) Σ_l ‖W_l‖²_F. Columns are the m examples.
/// </summary>
public static class VectorBackprop
{
    public sealed record Forwarded(Tensor[] Z, Tensor[] A);

    public static Forwarded Forward(Tensor X, Tensor[] W, Tensor[] b)
    {
        int L = W.Length;
        var Z = new Tensor[L + 1];
        var A = new Tensor[L + 1];
        A[0] = X;
        for (int l = 1; l <= L; l++)
        {
            Z[l] = matmul(W[l - 1], A[l - 1]) + b[l - 1]; // Z_l = W_l A_{l−1} + b_l
            A[l] = l < L ? nn.functional.relu(Z[l]) : Z[l].sigmoid(); // A_l = ReLU(Z_l), A_L = σ(Z_L)
        }
        return new Forwarded(Z, A);
    }

    /// <summary>J = cross-entropy + (λ/2m) Σ ‖W_l‖² (the notes' cost).</summary>
    public static Tensor Cost(Tensor AL, Tensor Y, Tensor[] W, double lambd)
    {
        long m = Y.shape[1];
        var ce = -(matmul(AL.log(), Y.t()) + matmul((1 - AL).log(), (1 - Y).t())).sum() / m;
        var reg = W.Select(w => w.pow(2).sum()).Aggregate((a, c) => a + c) * (lambd / (2.0 * m));
        return ce + reg;
    }

    /// <summary>
    /// The notes' backward pass, line by line: dA_L = (1 − Y) ⊘ (1 − A_L) − Y ⊘ A_L; dz_L = dA_L ⊙ A_L ⊙ (1 − A_L);
    /// dz_l = dA_l ⊙ 1[Z_l &gt; 0]; dW_l = (1/m) dz_l A_{l−1}ᵀ + (λ/m) W_l; db_l = (1/m) Σ_columns dz_l; dA_{l−1} =
    /// W_lᵀ dz_l. The notes' dz_l (the residual δ_l) is m · ∂J/∂Z_l: the 1/m enters in dW and db.
    /// </summary>
    public static (Tensor[] dz, Tensor[] dW, Tensor[] db) Backward(Forwarded f, Tensor Y, Tensor[] W, double lambd)
    {
        int L = W.Length;
        long m = Y.shape[1];
        var dz = new Tensor[L + 1];
        var dW = new Tensor[L];
        var db = new Tensor[L];
        var dA = (1 - Y) / (1 - f.A[L]) - Y / f.A[L]; // dA_L
        for (int l = L; l >= 1; l--)
        {
            dz[l] =
                l == L
                    ? dA * f.A[l] * (1 - f.A[l]) // dz_L = dA_L ⊙ σ′(Z_L)
                    : dA * (f.Z[l] > 0).to_type(dA.dtype); // dz_l = dA_l ⊙ 1[Z_l > 0]
            // dW_l = (1/m) dz_l A_{l−1}ᵀ + (λ/m) W_l
            dW[l - 1] = matmul(dz[l], f.A[l - 1].t()) / m + W[l - 1] * (lambd / m);
            db[l - 1] = dz[l].sum(1, keepdim: true) / m; // db_l = (1/m) Σ dz_l
            dA = matmul(W[l - 1].t(), dz[l]); // dA_{l−1} = W_lᵀ dz_l
        }
        return (dz, dW, db);
    }

    public static NetworkCheckResult Run(int[] sizes, int m, double lambd, long seed)
    {
        if (sizes.Length < 2 || sizes.Any(s => s < 1) || sizes[^1] != 1)
            throw new Runtime.UsageException(
                $"‹sizes› {string.Join(",", sizes)}: expected positive layer sizes " + $"ending in 1, e.g. 12,5,4,3,1"
            );
        if (m < 1)
            throw new Runtime.UsageException($"‹m› {m}: expected at least one example");
        if (!double.IsFinite(lambd) || lambd < 0)
            throw new Runtime.UsageException($"‹lambd› {lambd}: expected a finite number >= 0");
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        int L = sizes.Length - 1;
        var X = rand([sizes[0], m], ScalarType.Float64, generator: gen);
        var Y = rand([1, m], ScalarType.Float64, generator: gen); // uniform in [0, 1], as the notes' Y
        var W = Enumerable
            .Range(0, L)
            .Select(l =>
                (
                    randn([sizes[l + 1], sizes[l]], ScalarType.Float64, generator: gen) * Math.Sqrt(2.0 / sizes[l])
                ).requires_grad_(true)
            )
            .ToArray();
        var b = Enumerable
            .Range(0, L)
            .Select(l => (randn([sizes[l + 1], 1], ScalarType.Float64, generator: gen) * 0.1).requires_grad_(true))
            .ToArray();
        var f = Forward(X, W, b);
        for (int l = 1; l <= L; l++)
            f.Z[l].retain_grad();
        var J = Cost(f.A[L], Y, W, lambd);
        J.backward();
        var Wd = W.Select(w => w.detach()).ToArray();
        var bd = b.Select(v => v.detach()).ToArray();
        var fd = new Forwarded(f.Z.Select(z => z?.detach()).ToArray()!, f.A.Select(a => a.detach()).ToArray());
        var (dz, dW, db) = Backward(fd, Y, Wd, lambd);

        Tensor CostWith(int li, Tensor? w, Tensor? bias)
        {
            var Wl = Wd.Select((x, i) => i == li && w is not null ? w : x).ToArray();
            var bl = bd.Select((x, i) => i == li && bias is not null ? bias : x).ToArray();
            return Cost(Forward(X, Wl, bl).A[L], Y, Wl, lambd);
        }
        Tensor CostFromZ(int l, Tensor z)
        {
            var a = l < L ? nn.functional.relu(z) : z.sigmoid();
            for (int j = l + 1; j <= L; j++)
                a =
                    j < L
                        ? nn.functional.relu(matmul(Wd[j - 1], a) + bd[j - 1])
                        : (matmul(Wd[j - 1], a) + bd[j - 1]).sigmoid();
            return Cost(a, Y, Wd, lambd);
        }
        bool kink = Enumerable.Range(1, L - 1).Any(l => fd.Z[l].abs().min().item<double>() < 2 * HandVsAutograd.Step);
        string? note = kink ? "a ReLU input lies within 2h of 0" : null;
        var entries = new List<GradEntry>();
        for (int l = L; l >= 1; l--)
        {
            int layer = l,
                li = l - 1;
            // The notes' dz_l is m · ∂J/∂Z_l; compare dz_l / m with autograd's ∂J/∂Z_l.
            entries.Add(
                HandVsAutograd.Entry(
                    $"delta_{l} = dz_{l}/m = dJ/dZ_{l}",
                    dz[l] / m,
                    f.Z[l].grad!,
                    f.Z[l],
                    v => CostFromZ(layer, v),
                    note
                )
            );
            entries.Add(HandVsAutograd.Entry($"dW_{l}", dW[li], W[li].grad!, W[li], v => CostWith(li, v, null), note));
            entries.Add(HandVsAutograd.Entry($"db_{l}", db[li], b[li].grad!, b[li], v => CostWith(li, null, v), note));
        }
        return new NetworkCheckResult(
            "vector-backprop",
            J.item<double>(),
            entries,
            [
                $"layers {string.Join("-", sizes)} (the notes' 12288-20-7-5-1 shape, smaller), m = {m} examples, λ = {lambd}, X and Y "
                    + $"uniform in [0, 1] as in the notes.",
            ]
        );
    }
}
