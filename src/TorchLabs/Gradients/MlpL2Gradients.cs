using TorchLabs.Functions;

namespace TorchLabs.Gradients;

/// <summary>
/// Notes 000/001 Q1: an L-layer MLP, a⁽¹⁾ = x, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾) for every layer after the input
/// (the output too), with squared error E = ½ Σ_k (a_k⁽ᴸ⁾ − t_k)².
/// </summary>
public static class MlpL2Gradients
{
    /// <summary>σ(z) from the activation catalogue (an unknown name is rejected).</summary>
    public static Tensor Sigma(Tensor z, string activation) => Activations.Find(activation).Torch(z);

    /// <summary>σ′(z) by the catalogue's hand formula: σ(1 − σ) for the sigmoid, 1 − tanh² for tanh.</summary>
    public static Tensor SigmaPrime(Tensor z, string activation) => Activations.Find(activation).TorchDerivative(z);

    /// <summary>Forward pass: the z⁽ˡ⁾ and a⁽ˡ⁾ of layers 2..L (index 0 holds the input layer, z unused).</summary>
    public static (Tensor[] Z, Tensor[] A) Forward(Tensor x, Tensor[] W, Tensor[] b, string activation)
    {
        int L = W.Length;
        var Z = new Tensor[L + 1];
        var A = new Tensor[L + 1];
        A[0] = x;
        for (int l = 1; l <= L; l++)
        {
            Z[l] = matmul(W[l - 1], A[l - 1]) + b[l - 1]; // z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾
            A[l] = Sigma(Z[l], activation); // a⁽ˡ⁾ = σ(z⁽ˡ⁾)
        }
        return (Z, A);
    }

    /// <summary>E = ½ ‖a⁽ᴸ⁾ − t‖².</summary>
    public static Tensor Loss(Tensor aL, Tensor t) => 0.5 * (aL - t).pow(2).sum();

    /// <summary>
    /// The delta recursion (notes Q1, 3a-3c, with the stray Σ_k of δ⁽ᴸ⁾ removed):
    /// δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − t) ⊙ σ′(z⁽ᴸ⁾); δ⁽ˡ⁾ = σ′(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾; ∂E/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ; ∂E/∂b⁽ˡ⁾ = δ⁽ˡ⁾.
    /// </summary>
    public static (Tensor[] Delta, Tensor[] dW, Tensor[] db) Backward(
        Tensor[] Z,
        Tensor[] A,
        Tensor[] W,
        Tensor t,
        string activation
    )
    {
        int L = W.Length;
        var delta = new Tensor[L + 1];
        var dW = new Tensor[L];
        var db = new Tensor[L];
        delta[L] = (A[L] - t) * SigmaPrime(Z[L], activation); // δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − t) ⊙ σ′(z⁽ᴸ⁾)
        for (int l = L - 1; l >= 1; l--)
            // δ⁽ˡ⁾ = σ′(z⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾
            delta[l] = SigmaPrime(Z[l], activation) * matmul(W[l].t(), delta[l + 1]);
        for (int l = 1; l <= L; l++)
        {
            dW[l - 1] = outer(delta[l], A[l - 1]); // ∂E/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ
            db[l - 1] = delta[l].clone(); // ∂E/∂b⁽ˡ⁾ = δ⁽ˡ⁾
        }
        return (delta, dW, db);
    }

    /// <summary>The notes' δ⁽ᴸ⁾ as written, Σ_k (a_k⁽ᴸ⁾ − t_k) σ′(z⁽ᴸ⁾): the errors summed into one number
    /// first.</summary>
    public static Tensor DeltaLAsWritten(Tensor aL, Tensor zL, Tensor t, string activation) =>
        (aL - t).sum() * SigmaPrime(zL, activation);
}

/// <summary>Notes Q1 checked for any depth and widths.</summary>
public static class MlpL2Check
{
    public static NetworkCheckResult Run(int[] sizes, string activation, long seed)
    {
        if (sizes.Length < 2 || sizes.Any(s => s < 1))
            throw new Runtime.UsageException(
                $"‹sizes› {string.Join(",", sizes)}: expected at least two positive layer sizes, " + $"e.g. 4,6,5,3"
            );
        if (activation is not ("sigmoid" or "tanh"))
            throw new Runtime.UsageException($"‹activation› {activation}: expected sigmoid or tanh for mlp-l2");
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        int L = sizes.Length - 1;
        var W = Enumerable
            .Range(0, L)
            .Select(l => randn([sizes[l + 1], sizes[l]], ScalarType.Float64, generator: gen).requires_grad_(true))
            .ToArray();
        var b = Enumerable
            .Range(0, L)
            .Select(l => randn([sizes[l + 1]], ScalarType.Float64, generator: gen).requires_grad_(true))
            .ToArray();
        var x = randn([sizes[0]], ScalarType.Float64, generator: gen);
        var t = rand([sizes[^1]], ScalarType.Float64, generator: gen);
        var (Z, A) = MlpL2Gradients.Forward(x, W, b, activation);
        for (int l = 1; l <= L; l++)
            Z[l].retain_grad();
        var loss = MlpL2Gradients.Loss(A[L], t);
        loss.backward();
        var Zd = Z.Select(z => z?.detach()).ToArray();
        var Ad = A.Select(a => a.detach()).ToArray();
        var Wd = W.Select(w => w.detach()).ToArray();
        var (delta, dW, db) = MlpL2Gradients.Backward(Zd!, Ad, Wd, t, activation);

        Tensor FromZ(int l, Tensor z)
        {
            var a = MlpL2Gradients.Sigma(z, activation);
            for (int j = l + 1; j <= L; j++)
                a = MlpL2Gradients.Sigma(matmul(Wd[j - 1], a) + b[j - 1].detach(), activation);
            return MlpL2Gradients.Loss(a, t);
        }
        var entries = new List<GradEntry>();
        for (int l = L; l >= 1; l--)
        {
            int layer = l,
                li = l - 1;
            var aPrev = Ad[l - 1];
            entries.Add(
                HandVsAutograd.Entry($"delta({l + 1}) = dE/dz({l + 1})", delta[l], Z[l].grad!, Z[l], v =>
                    FromZ(layer, v)
                )
            );
            entries.Add(
                HandVsAutograd.Entry($"dE/dW({l + 1})", dW[li], W[li].grad!, W[li], v =>
                    FromZ(layer, matmul(v, aPrev) + b[li].detach())
                )
            );
            entries.Add(
                HandVsAutograd.Entry($"dE/db({l + 1})", db[li], b[li].grad!, b[li], v =>
                    FromZ(layer, matmul(Wd[li], aPrev) + v)
                )
            );
        }
        return new NetworkCheckResult(
            "mlp-l2",
            loss.item<double>(),
            entries,
            [
                $"layers {string.Join(" → ", sizes)} (seed numbering: layer 1 is the input), {activation} on every layer after the input, E "
                    + $"= ½‖a⁽ᴸ⁾ − t‖².",
            ]
        );
    }
}
