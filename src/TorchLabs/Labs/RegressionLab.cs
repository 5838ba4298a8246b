using System.Globalization;
using TorchLabs.Reference;

namespace TorchLabs.Labs;

/// <summary>One polynomial fit: its order, λ, coefficients (TorchSharp) and the plain C# solve's, and its
/// errors.</summary>
public sealed record PolyFit(int M, double LnLambda, double[] W, double[] WPlain, double TrainRms, double TestRms)
{
    /// <summary>Relative difference between TorchSharp's and the plain C# coefficients (‖Δ‖∞/‖w‖∞).</summary>
    public double SolveAgreement => Gradients.HandVsAutograd.RelError(WPlain, W);
}

public sealed record LineFit(double[] LstsqW, double[] NormalW, double[] PlainW, double Slope, double Intercept);

public sealed record RegressionResult(
    double[] X,
    double[] T,
    double[] XTest,
    double[] TTest,
    LineFit Line,
    IReadOnlyList<PolyFit> ByOrder,
    IReadOnlyList<PolyFit> Ridge,
    IReadOnlyList<PolyFit> RidgeSweep,
    double Noise
);

/// <summary>
/// Notes 002 / Bishop §1.1: linear regression in closed form, and polynomial curve fitting of N = 10 points with
/// t = sin(2πx) + N(0, 0.3²). Error E(w) = ½ Σ (y(xₙ, w) − tₙ)²; ridge Ẽ(w) = E(w) + (λ/2)‖w‖² (Bishop eq. 1.4 and the
/// notes' form), solved as least squares on [Φ; √λ I]. E_RMS = √(2E(w*)/N). TorchSharp's linalg.lstsq against a plain
/// C# QR solve.
/// </summary>
public static partial class RegressionLab
{
    public const int N = 10,
        TestN = 100;
    public const double NoiseStd = 0.3;
    public static readonly int[] TableOrders = [0, 1, 3, 9];
    public static readonly double[] TableLnLambdas = [double.NegativeInfinity, -18, 0];

    /// <summary>Bishop's Table 1.1 as the notes print it (its own noise draw), columns M = 0, 1, 3, 9.</summary>
    public static readonly double?[][] NotesTable11 =
    [
        [0.19, 0.82, 0.31, 0.35],
        [null, -1.27, 7.99, 232.37],
        [null, null, -25.43, -5321.83],
        [null, null, 17.37, 48568.31],
        [null, null, null, -231639.30],
        [null, null, null, 640042.26],
        [null, null, null, -1061800.52],
        [null, null, null, 1042400.18],
        [null, null, null, -557682.99],
        [null, null, null, 125201.43],
    ];

    /// <summary>Table 1.2 as the notes print it, columns ln λ = −∞, −18, 0.</summary>
    public static readonly double[][] NotesTable12 =
    [
        [0.35, 0.35, 0.13],
        [232.37, 4.74, -0.05],
        [-5321.83, -0.77, -0.06],
        [48568.31, -31.97, -0.05],
        [-231639.30, -3.89, -0.03],
        [640042.26, 55.28, -0.02],
        [-1061800.52, 41.32, -0.01],
        [1042400.18, -45.95, -0.00],
        [-557682.99, -91.53, 0.00],
        [125201.43, 72.68, 0.01],
    ];

    /// <summary>Φ with Φ[n, j] = xₙʲ, j = 0..M.</summary>
    public static double[,] Design(double[] x, int M)
    {
        var phi = new double[x.Length, M + 1];
        for (int n = 0; n < x.Length; n++)
        for (int j = 0; j <= M; j++)
            phi[n, j] = Math.Pow(x[n], j);
        return phi;
    }

    static Tensor T(double[,] a) =>
        tensor(a.Cast<double>().ToArray(), [a.GetLength(0), a.GetLength(1)], ScalarType.Float64);

    static Tensor T(double[] a) => tensor(a, ScalarType.Float64);

    /// <summary>w* = argmin ‖Φw − t‖² + λ‖w‖² by TorchSharp's linalg.lstsq on [Φ; √λ I] (λ = e^{lnλ}, 0 for
    /// −∞).</summary>
    public static double[] SolveTorch(double[,] phi, double[] t, double lambda)
    {
        using var scope = NewDisposeScope();
        var A = T(phi);
        var b = T(t).unsqueeze(1);
        if (lambda > 0)
        {
            int k = phi.GetLength(1);
            A = cat([A, eye(k, dtype: ScalarType.Float64) * Math.Sqrt(lambda)], 0);
            b = cat([b, zeros([k, 1], ScalarType.Float64)], 0);
        }
        var (solution, _, _, _) = linalg.lstsq(A, b);
        return solution.squeeze(1).data<double>().ToArray();
    }

    public static double Predict(double[] w, double x) => w.Select((wj, j) => wj * Math.Pow(x, j)).Sum();

    /// <summary>E_RMS = √(2E/N) = √(mean (y − t)²).</summary>
    public static double Rms(double[] w, double[] x, double[] t) =>
        Math.Sqrt(x.Select((xi, i) => Math.Pow(Predict(w, xi) - t[i], 2)).Average());

    public static PolyFit Fit(int M, double lnLambda, double[] x, double[] t, double[] xTest, double[] tTest)
    {
        double lambda = double.IsNegativeInfinity(lnLambda) ? 0 : Math.Exp(lnLambda);
        // The notes' Ẽ = ½Σ(y − t)² + (λ/2)‖w‖² has the same minimiser as ‖Φw − t‖² + λ‖w‖².
        var phi = Design(x, M);
        double[] w = SolveTorch(phi, t, lambda);
        double[] wPlain = LeastSquares.Solve(phi, t, lambda);
        return new PolyFit(M, lnLambda, w, wPlain, Rms(w, x, t), Rms(w, xTest, tTest));
    }

    public static RegressionResult Run(long seed)
    {
        using var gen = new Generator((ulong)seed);
        double[] Noise(int n) => (randn([n], ScalarType.Float64, generator: gen) * NoiseStd).data<double>().ToArray();
        double[] x = Enumerable.Range(0, N).Select(i => i / (double)(N - 1)).ToArray();
        double[] noise = Noise(N);
        double[] t = x.Select((xi, i) => Math.Sin(2 * Math.PI * xi) + noise[i]).ToArray();
        double[] xTest = Enumerable.Range(0, TestN).Select(i => i / (double)(TestN - 1)).ToArray();
        double[] noiseTest = Noise(TestN);
        double[] tTest = xTest.Select((xi, i) => Math.Sin(2 * Math.PI * xi) + noiseTest[i]).ToArray();

        // Linear regression in closed form on a seeded line t = 2x + 1 + noise: three solves.
        double[] xl = Enumerable.Range(0, 20).Select(i => i / 19.0).ToArray();
        double[] nl = Noise(20);
        double[] tl = xl.Select((xi, i) => 2 * xi + 1 + nl[i]).ToArray();
        var phiL = Design(xl, 1);
        double[] lstsq = SolveTorch(phiL, tl, 0);
        double[] normal;
        using (var scope = NewDisposeScope())
        {
            var P = T(phiL);
            // (ΦᵀΦ)w = Φᵀt
            normal = linalg
                .solve(matmul(P.t(), P), matmul(P.t(), T(tl).unsqueeze(1)), true)
                .squeeze(1)
                .data<double>()
                .ToArray();
        }
        double[] plain = LeastSquares.Solve(phiL, tl);
        var line = new LineFit(lstsq, normal, plain, lstsq[1], lstsq[0]);

        var byOrder = Enumerable.Range(0, 10).Select(M => Fit(M, double.NegativeInfinity, x, t, xTest, tTest)).ToList();
        var ridge = TableLnLambdas.Select(l => Fit(9, l, x, t, xTest, tTest)).ToList();
        var sweep = Enumerable.Range(0, 36).Select(i => Fit(9, -35 + i, x, t, xTest, tTest)).ToList();
        return new RegressionResult(x, t, xTest, tTest, line, byOrder, ridge, sweep, NoiseStd);
    }

    static string C(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);

    static string Ln(double l) => double.IsNegativeInfinity(l) ? "−∞" : l.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// "within 1e-14": the power of ten above a rounding-level difference. libtorch's solvers vary in the last bits
    /// from run to run (vectorised reductions depend on memory alignment), so the exact value would make the output
    /// differ between runs.
    /// </summary>
    /// <summary>
    /// The JSON of `torchlabs regression --format json`: the line fit by three solvers, the coefficients and E_RMS per
    /// order M (ln λ = −∞, written null: no regularisation), the ridge table (M = 9), the E_RMS sweep over ln λ, and
    /// the largest solver disagreement.
    /// </summary>
    public static object ToJson(RegressionResult r)
    {
        object Fit(PolyFit f) =>
            new
            {
                m = f.M,
                lnLambda = f.LnLambda,
                lambda = Math.Exp(f.LnLambda),
                w = f.W,
                wPlainQr = f.WPlain,
                trainRms = f.TrainRms,
                testRms = f.TestRms,
                solverAgreement = f.SolveAgreement,
            };
        return new
        {
            n = r.X.Length,
            testN = r.XTest.Length,
            noise = r.Noise,
            line = new
            {
                lstsq = r.Line.LstsqW,
                normalEquations = r.Line.NormalW,
                plainQr = r.Line.PlainW,
                slope = r.Line.Slope,
                intercept = r.Line.Intercept,
            },
            byOrder = r.ByOrder.Select(Fit),
            ridge = r.Ridge.Select(Fit),
            ridgeSweep = r.RidgeSweep.Select(f => new
            {
                lnLambda = f.LnLambda,
                trainRms = f.TrainRms,
                testRms = f.TestRms,
            }),
            solverAgreement = r.ByOrder.Concat(r.Ridge).Concat(r.RidgeSweep).Max(f => f.SolveAgreement),
        };
    }

    public static string Bound(double v) => v == 0 ? "exactly" : $"within 1e{Math.Ceiling(Math.Log10(v)):0}";

    static double Diff(double[] a, double[] b) => Gradients.HandVsAutograd.RelError(b, a);
}
