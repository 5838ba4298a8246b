namespace TorchLabs.Gradients;

/// <summary>
/// Notes 000/001 Q2: y = σ(W⁽ⁿ⁾σ(⋯σ(W⁽¹⁾x + b⁽¹⁾)⋯) + b⁽ⁿ⁾), and ∂y/∂x as the product of the layers' Jacobians,
/// ∂y/∂x = diag(σ′(z⁽ⁿ⁾)) W⁽ⁿ⁾ ⋯ diag(σ′(z⁽¹⁾)) W⁽¹⁾, against central differences (y(x + h eⱼ) − y(x − h eⱼ))/2h and
/// autograd.
/// </summary>
public static class ChainJacobian
{
    public static Tensor Forward(Tensor x, Tensor[] W, Tensor[] b, string activation)
    {
        var a = x;
        for (int l = 0; l < W.Length; l++)
            a = MlpL2Gradients.Sigma(matmul(W[l], a) + b[l], activation);
        return a;
    }

    /// <summary>J = Π_l diag(σ′(z⁽ˡ⁾)) W⁽ˡ⁾, multiplied from the input side: J ← diag(σ′(z⁽ˡ⁾)) W⁽ˡ⁾ J.</summary>
    public static Tensor Hand(Tensor x, Tensor[] W, Tensor[] b, string activation)
    {
        var a = x;
        var J = eye(x.shape[0], dtype: ScalarType.Float64);
        for (int l = 0; l < W.Length; l++)
        {
            var z = matmul(W[l], a) + b[l]; // z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾
            J = matmul(diag(MlpL2Gradients.SigmaPrime(z, activation)), matmul(W[l], J)); // J ← diag(σ′(z⁽ˡ⁾)) W⁽ˡ⁾ J
            a = MlpL2Gradients.Sigma(z, activation);
        }
        return J;
    }

    public static NetworkCheckResult Run(int[] sizes, string activation, long seed)
    {
        if (sizes.Length < 2 || sizes.Any(s => s < 1))
            throw new Runtime.UsageException(
                $"‹sizes› {string.Join(",", sizes)}: expected at least two positive layer sizes"
            );
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        int L = sizes.Length - 1;
        var W = Enumerable
            .Range(0, L)
            .Select(l => randn([sizes[l + 1], sizes[l]], ScalarType.Float64, generator: gen))
            .ToArray();
        var b = Enumerable.Range(0, L).Select(l => randn([sizes[l + 1]], ScalarType.Float64, generator: gen)).ToArray();
        var x = randn([sizes[0]], ScalarType.Float64, generator: gen);
        var hand = Hand(x, W, b, activation);

        // Autograd: one backward pass per output component gives one row of the Jacobian.
        var xl = x.clone().requires_grad_(true);
        var y = Forward(xl, W, b, activation);
        var rows = new List<double[]>();
        for (int i = 0; i < sizes[^1]; i++)
        {
            var gi = autograd.grad([y[i]], [xl], retain_graph: true)[0];
            rows.Add(GradCheck.Values(gi));
        }
        double[] auto = rows.SelectMany(r => r).ToArray();

        // Central differences, column by column.
        double h = HandVsAutograd.Step;
        var numeric = new double[sizes[^1] * sizes[0]];
        for (int j = 0; j < sizes[0]; j++)
        {
            var e = zeros(sizes[0], ScalarType.Float64);
            e[j] = h;
            var col = GradCheck.Values((Forward(x + e, W, b, activation) - Forward(x - e, W, b, activation)) / (2 * h));
            for (int i = 0; i < col.Length; i++)
                numeric[i * sizes[0] + j] = col[i];
        }
        var entry = new GradEntry("dy/dx", [sizes[^1], sizes[0]], GradCheck.Values(hand), auto, numeric);
        return new NetworkCheckResult(
            "chain-dydx",
            double.NaN,
            [entry],
            [
                $"layers {string.Join(" → ", sizes)}, {activation}; ∂y/∂x is {sizes[^1]}×{sizes[0]}, the product of {L} layer Jacobians.",
            ]
        );
    }
}
