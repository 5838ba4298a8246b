using System.Numerics.Tensors;

namespace TorchLabs.Reference;

/// <summary>
/// Notes 004's network on plain double arrays, with the notes' own vector formulas (no TorchSharp): columns are the m
/// examples, Z_l = W_l A_{l−1} + b_l, A_l = ReLU(Z_l) for hidden layers and σ(Z_L) at the output,
/// J = −(1/m)[log(A_L)Yᵀ + log(1 − A_L)(1 − Y)ᵀ] + (λ/2m) Σ‖W_l‖²; backward: dA_L = (1 − Y)⊘(1 − A_L) − Y⊘A_L,
/// dz_L = dA_L ⊙ A_L ⊙ (1 − A_L), dz_l = dA_l ⊙ 1[Z_l &gt; 0], dW_l = (1/m) dz_l A_{l−1}ᵀ + (λ/m) W_l, db_l = (1/m) Σ
/// dz_l, dA_{l−1} = W_lᵀ dz_l; then W_l ← W_l − η dW_l, b_l ← b_l − η db_l. Matrices are row-major double[]. Inner
/// loops use TensorPrimitives (SIMD); rows are split across cores, each row summed by one thread, so results do not
/// depend on the thread count.
/// </summary>
public sealed class VectorNetwork
{
    public int[] Dims { get; }
    public double[][] W { get; }
    public double[][] B { get; }
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Rows of A_{l−1} per cache block (64 rows of 200 doubles: 100 KiB).</summary>
    const int KBlock = 64;

    public VectorNetwork(int[] dims, double[][] w, double[][] b)
    {
        Dims = dims;
        W = w;
        B = b;
    }

    int L => Dims.Length - 1;

    ParallelOptions Options => new() { MaxDegreeOfParallelism = MaxDegreeOfParallelism };

    /// <summary>A_0 = X and every Z_l, A_l (each n_l × m).</summary>
    public (double[][] Z, double[][] A) Forward(double[] X, int m)
    {
        var Z = new double[L + 1][];
        var A = new double[L + 1][];
        A[0] = X;
        for (int l = 1; l <= L; l++)
        {
            int rows = Dims[l],
                inner = Dims[l - 1];
            double[] z = new double[rows * m],
                aPrev = A[l - 1],
                w = W[l - 1],
                b = B[l - 1];
            // Blocked over k so that a block of A_{l−1}'s rows stays in cache while every output row uses it: A is read
            // once per pass instead of once per output row. Each Z[i,:] still sums over k in ascending order.
            int chunks = Math.Min(MaxDegreeOfParallelism, rows);
            Parallel.For(0, chunks, Options, c =>
            {
                int i0 = rows * c / chunks,
                    i1 = rows * (c + 1) / chunks;
                for (int i = i0; i < i1; i++)
                    z.AsSpan(i * m, m).Fill(b[i]); // Z_l = b_l ...
                for (int k0 = 0; k0 < inner; k0 += KBlock)
                {
                    int k1 = Math.Min(inner, k0 + KBlock);
                    for (int i = i0; i < i1; i++)
                    {
                        var zi = z.AsSpan(i * m, m);
                        for (int k = k0; k < k1; k++)
                            // ... + Σ_k W_l[i,k] A_{l−1}[k,:]
                            TensorPrimitives.MultiplyAdd(aPrev.AsSpan(k * m, m), w[i * inner + k], zi, zi);
                    }
                }
            });
            Z[l] = z;
            // ReLU, σ at the output
            A[l] = l < L ? z.Select(v => v > 0 ? v : 0).ToArray() : z.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
        }
        return (Z, A);
    }

    /// <summary>The notes' cost: cross-entropy plus (λ/2m) Σ‖W_l‖².</summary>
    public double Cost(double[] AL, double[] Y, int m, double lambd)
    {
        double ce = 0;
        for (int j = 0; j < m; j++)
            ce += Y[j] * Math.Log(AL[j]) + (1 - Y[j]) * Math.Log(1 - AL[j]);
        double reg = W.Sum(w => TensorPrimitives.Dot<double>(w, w));
        return -ce / m + reg * lambd / (2.0 * m);
    }

    /// <summary>One iteration: forward, cost, the notes' backward formulas, and the update. Returns the cost before the
    /// update.</summary>
    public double Step(double[] X, double[] Y, int m, double lr, double lambd)
    {
        var (Z, A) = Forward(X, m);
        double cost = Cost(A[L], Y, m, lambd);
        var dA = new double[m];
        for (int j = 0; j < m; j++)
            dA[j] = (1 - Y[j]) / (1 - A[L][j]) - Y[j] / A[L][j]; // dA_L
        for (int l = L; l >= 1; l--)
        {
            int rows = Dims[l],
                inner = Dims[l - 1];
            double[] a = A[l],
                z = Z[l],
                aPrev = A[l - 1],
                w = W[l - 1];
            var dz = new double[rows * m];
            for (int t = 0; t < dz.Length; t++)
                dz[t] =
                    l == L ? dA[t] * a[t] * (1 - a[t]) // dz_L = dA_L ⊙ A_L ⊙ (1 − A_L)
                    : z[t] > 0 ? dA[t]
                    : 0; // dz_l = dA_l ⊙ 1[Z_l > 0]
            var dW = new double[rows * inner];
            var db = new double[rows];
            // ∂W: k outermost, so each row of A_{l−1} is read once while the small dz_l stays in cache.
            Parallel.For(0, Math.Min(MaxDegreeOfParallelism, inner), Options, c =>
            {
                int chunks = Math.Min(MaxDegreeOfParallelism, inner);
                int k0 = inner * c / chunks,
                    k1 = inner * (c + 1) / chunks;
                for (int k = k0; k < k1; k++)
                {
                    var ak = aPrev.AsSpan(k * m, m);
                    for (int i = 0; i < rows; i++)
                        // dW_l
                        dW[i * inner + k] =
                            TensorPrimitives.Dot<double>(dz.AsSpan(i * m, m), ak) / m + w[i * inner + k] * lambd / m;
                }
            });
            for (int i = 0; i < rows; i++)
                db[i] = TensorPrimitives.Sum<double>(dz.AsSpan(i * m, m)) / m; // db_l = (1/m) Σ dz_l
            if (l > 1)
            {
                var next = new double[inner * m];
                Parallel.For(0, inner, Options, k =>
                {
                    var nk = next.AsSpan(k * m, m);
                    for (int i = 0; i < rows; i++)
                        // dA_{l−1} = W_lᵀ dz_l
                        TensorPrimitives.MultiplyAdd(dz.AsSpan(i * m, m), w[i * inner + k], nk, nk);
                });
                dA = next;
            }
            for (int t = 0; t < w.Length; t++)
                w[t] -= lr * dW[t]; // W_l ← W_l − η dW_l
            for (int i = 0; i < rows; i++)
                B[l - 1][i] -= lr * db[i]; // b_l ← b_l − η db_l
        }
        return cost;
    }

    /// <summary>The notes' predict: 1 where A_L &gt; threshold.</summary>
    public int[] Predict(double[] X, int m, double threshold = 0.5) =>
        Forward(X, m).A[L].Select(v => v > threshold ? 1 : 0).ToArray();
}
