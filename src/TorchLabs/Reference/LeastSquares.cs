namespace TorchLabs.Reference;

/// <summary>Plain C# linear algebra (no TorchSharp): Householder QR least squares and Gaussian elimination, the oracle
/// for the regression lab.</summary>
public static class LeastSquares
{
    /// <summary>
    /// argmin_w ‖A w − b‖₂ for A (m × n, m ≥ n, full column rank) by Householder QR: A = QR, w = R⁻¹ Qᵀb.
    /// With <paramref name="lambda"/> &gt; 0 it solves the ridge problem argmin ‖A w − b‖² + λ‖w‖² as least squares on
    /// [A; √λ I].
    /// </summary>
    public static double[] Solve(double[,] A, double[] b, double lambda = 0)
    {
        int m0 = A.GetLength(0),
            n = A.GetLength(1);
        int m = lambda > 0 ? m0 + n : m0;
        var R = new double[m, n];
        var y = new double[m];
        for (int i = 0; i < m0; i++)
        {
            for (int j = 0; j < n; j++)
                R[i, j] = A[i, j];
            y[i] = b[i];
        }
        if (lambda > 0)
            for (int j = 0; j < n; j++)
                R[m0 + j, j] = Math.Sqrt(lambda);
        if (m < n)
            throw new ArgumentException("least squares needs at least as many rows as unknowns");
        for (int k = 0; k < n; k++)
        {
            // Householder vector v for column k below the diagonal: H = I − 2vvᵀ/(vᵀv) maps it to −sign(a)‖a‖e₁.
            double norm = 0;
            for (int i = k; i < m; i++)
                norm += R[i, k] * R[i, k];
            norm = Math.Sqrt(norm);
            if (norm == 0)
                throw new ArgumentException("the matrix is rank deficient");
            double alpha = R[k, k] > 0 ? -norm : norm;
            var v = new double[m];
            v[k] = R[k, k] - alpha;
            for (int i = k + 1; i < m; i++)
                v[i] = R[i, k];
            double vv = 0;
            for (int i = k; i < m; i++)
                vv += v[i] * v[i];
            if (vv == 0)
                continue;
            for (int j = k; j < n; j++)
            {
                double s = 0;
                for (int i = k; i < m; i++)
                    s += v[i] * R[i, j];
                s = 2 * s / vv;
                for (int i = k; i < m; i++)
                    R[i, j] -= s * v[i];
            }
            double sy = 0;
            for (int i = k; i < m; i++)
                sy += v[i] * y[i];
            sy = 2 * sy / vv;
            for (int i = k; i < m; i++)
                y[i] -= sy * v[i];
        }
        return BackSubstitute(R, y, n); // R w = (Qᵀ b)[0..n)
    }

    /// <summary>Solves U w = y[0..n) for the upper-triangular n × n corner of <paramref name="U"/>:
    /// wᵢ = (yᵢ − Σⱼ₌ᵢ₊₁ Uᵢⱼ wⱼ) / Uᵢᵢ, from the last row up.</summary>
    static double[] BackSubstitute(double[,] U, double[] y, int n)
    {
        var w = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int j = i + 1; j < n; j++)
                s -= U[i, j] * w[j];
            w[i] = s / U[i, i];
        }
        return w;
    }

    /// <summary>Solves the square system M w = r by Gaussian elimination with partial pivoting.</summary>
    public static double[] GaussSolve(double[,] M, double[] r)
    {
        int n = r.Length;
        var a = (double[,])M.Clone();
        var x = (double[])r.Clone();
        for (int k = 0; k < n; k++)
        {
            int p = k;
            for (int i = k + 1; i < n; i++)
                if (Math.Abs(a[i, k]) > Math.Abs(a[p, k]))
                    p = i;
            if (a[p, k] == 0)
                throw new ArgumentException("singular matrix");
            if (p != k)
            {
                for (int j = 0; j < n; j++)
                    (a[k, j], a[p, j]) = (a[p, j], a[k, j]);
                (x[k], x[p]) = (x[p], x[k]);
            }
            for (int i = k + 1; i < n; i++)
            {
                double f = a[i, k] / a[k, k];
                for (int j = k; j < n; j++)
                    a[i, j] -= f * a[k, j];
                x[i] -= f * x[k];
            }
        }
        return BackSubstitute(a, x, n);
    }
}
