namespace TorchLabs.Reference;

/// <summary>Hidden-layer activations of the reference MLP.</summary>
public enum RefActivation
{
    Identity,
    Sigmoid,
    Relu,
    Tanh,
}

/// <summary>Losses of the reference MLP, both averaged over the batch.</summary>
public enum RefLoss
{
    /// <summary>L = (1/N) Σ_n −log softmax(z_n)[y_n] (torch's cross_entropy with integer targets).</summary>
    SoftmaxCrossEntropy,

    /// <summary>L = (1/N) Σ_n ½ ‖ŷ_n − y_n‖² (the output layer is linear).</summary>
    SquaredError,
}

/// <summary>
/// A small multi-layer perceptron on plain double arrays, with its own forward and backward pass: the independent
/// oracle for TorchSharp autograd. Layer l: z_l = W_l a_{l−1} + b_l, a_l = σ(z_l) (hidden), output z_L linear.
/// W_l is stored [n_l, n_{l−1}] row-major, as torch's nn.Linear stores its weight.
/// </summary>
public sealed class ReferenceMlp
{
    public int[] Sizes { get; }
    public RefActivation Activation { get; }
    public RefLoss Loss { get; }
    public double[][] W { get; }
    public double[][] B { get; }

    public ReferenceMlp(int[] sizes, RefActivation activation, RefLoss loss, Random rng)
    {
        if (sizes.Length < 2 || sizes.Any(s => s < 1))
            throw new ArgumentException("expected at least two positive layer sizes");
        Sizes = sizes;
        Activation = activation;
        Loss = loss;
        int L = sizes.Length - 1;
        W = new double[L][];
        B = new double[L][];
        for (int l = 0; l < L; l++)
        {
            double bound = 1 / Math.Sqrt(sizes[l]); // PyTorch's default range U(−1/√fan_in, 1/√fan_in)
            W[l] = Enumerable
                .Range(0, sizes[l + 1] * sizes[l])
                .Select(_ => (rng.NextDouble() * 2 - 1) * bound)
                .ToArray();
            B[l] = Enumerable.Range(0, sizes[l + 1]).Select(_ => (rng.NextDouble() * 2 - 1) * bound).ToArray();
        }
    }

    /// <summary>Parameter blocks in torch's named_parameters order: W_1, b_1, W_2, b_2, ...</summary>
    public IReadOnlyList<double[]> Parameters => W.Zip(B).SelectMany(p => new[] { p.First, p.Second }).ToList();

    /// <summary>Loss and the gradient of every parameter block (same order as <see cref="Parameters"/>).</summary>
    /// <param name="x">N inputs, each of length Sizes[0].</param>
    /// <param name="y">Cross-entropy: N class indices (as doubles); squared error: N targets of length Sizes[^1],
    /// flattened.</param>
    public (double Loss, double[][] Grads) LossAndGradients(double[][] x, double[] y)
    {
        int N = x.Length,
            L = W.Length;
        var grads = Parameters.Select(p => new double[p.Length]).ToArray();
        double loss = 0;
        for (int n = 0; n < N; n++)
        {
            // Forward: keep z_l and a_l of every layer.
            var a = new double[L + 1][];
            var z = new double[L + 1][];
            a[0] = x[n];
            for (int l = 1; l <= L; l++)
            {
                z[l] = Affine(W[l - 1], B[l - 1], a[l - 1], Sizes[l], Sizes[l - 1]);
                a[l] = l == L ? z[l] : z[l].Select(Act).ToArray();
            }
            // Output delta δ_L = ∂L_n/∂z_L.
            int K = Sizes[L];
            var delta = new double[K];
            if (Loss == RefLoss.SoftmaxCrossEntropy)
            {
                double max = z[L].Max();
                double sum = z[L].Sum(v => Math.Exp(v - max));
                int cls = (int)y[n];
                loss += -(z[L][cls] - max - Math.Log(sum));
                for (int k = 0; k < K; k++)
                    delta[k] = (Math.Exp(z[L][k] - max) / sum - (k == cls ? 1 : 0)) / N; // (softmax − onehot)/N
            }
            else
            {
                for (int k = 0; k < K; k++)
                {
                    double e = z[L][k] - y[n * K + k];
                    loss += 0.5 * e * e;
                    delta[k] = e / N; // (ŷ − y)/N
                }
            }
            // Backward: ∂L/∂W_l = δ_l a_{l−1}ᵀ, ∂L/∂b_l = δ_l, δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}).
            for (int l = L; l >= 1; l--)
            {
                int outN = Sizes[l],
                    inN = Sizes[l - 1];
                double[] gW = grads[2 * (l - 1)],
                    gb = grads[2 * (l - 1) + 1];
                for (int i = 0; i < outN; i++)
                {
                    gb[i] += delta[i];
                    for (int j = 0; j < inN; j++)
                        gW[i * inN + j] += delta[i] * a[l - 1][j];
                }
                if (l == 1)
                    break;
                var prev = new double[inN];
                for (int j = 0; j < inN; j++)
                {
                    double s = 0;
                    for (int i = 0; i < outN; i++)
                        s += W[l - 1][i * inN + j] * delta[i];
                    prev[j] = s * ActPrime(z[l - 1][j]);
                }
                delta = prev;
            }
        }
        return (loss / N, grads);
    }

    static double[] Affine(double[] w, double[] b, double[] a, int outN, int inN)
    {
        var z = new double[outN];
        for (int i = 0; i < outN; i++)
        {
            double s = b[i];
            for (int j = 0; j < inN; j++)
                s += w[i * inN + j] * a[j];
            z[i] = s;
        }
        return z;
    }

    double Act(double v) =>
        Activation switch
        {
            RefActivation.Sigmoid => 1 / (1 + Math.Exp(-v)),
            RefActivation.Relu => v > 0 ? v : 0,
            RefActivation.Tanh => Math.Tanh(v),
            _ => v,
        };

    double ActPrime(double v) =>
        Activation switch
        {
            RefActivation.Sigmoid => Act(v) * (1 - Act(v)),
            RefActivation.Relu => v > 0 ? 1 : 0, // libtorch's choice at 0: 0
            RefActivation.Tanh => 1 - Math.Tanh(v) * Math.Tanh(v),
            _ => 1,
        };
}
