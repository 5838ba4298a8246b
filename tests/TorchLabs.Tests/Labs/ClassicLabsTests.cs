using TorchLabs.Data;
using TorchLabs.Labs;
using TorchLabs.Reference;
using TorchLabs.Runtime;

namespace TorchLabs.Tests.Labs;

public class ClassicLabsTests
{
    [Fact]
    public void Regression_ClosedForm_EqualsNormalEquationsAndPlainSolve()
    {
        var r = RegressionLab.Run(3);
        Assert.Equal(r.Line.LstsqW, r.Line.NormalW, (a, b) => Math.Abs(a - b) <= 1e-10 * Math.Max(1, Math.Abs(a)));
        Assert.Equal(r.Line.LstsqW, r.Line.PlainW, (a, b) => Math.Abs(a - b) <= 1e-10 * Math.Max(1, Math.Abs(a)));
        // Every polynomial fit: TorchSharp's lstsq against the plain C# QR solve (M = 9 is ill-conditioned: 1e-6).
        Assert.All(r.ByOrder, f =>
            Assert.True(f.SolveAgreement <= (f.M < 6 ? 1e-10 : 1e-6), $"M = {f.M}: {f.SolveAgreement:E2}")
        );
    }

    [Fact]
    public void Regression_M9_InterpolatesTheTenPoints()
    {
        var r = RegressionLab.Run(5);
        Assert.True(r.ByOrder[9].TrainRms < 1e-6, $"train E_RMS {r.ByOrder[9].TrainRms:E2}");
        Assert.True(r.ByOrder[9].TestRms > r.ByOrder[3].TestRms, "M = 9 over-fits: its test error exceeds M = 3's");
    }

    [Fact]
    public void Regression_Ridge_ShrinksCoefficientsAsLambdaGrows()
    {
        var r = RegressionLab.Run(7);
        double[] norms = r.RidgeSweep.Select(f => Math.Sqrt(f.W.Sum(w => w * w))).ToArray();
        for (int i = 1; i < norms.Length; i++)
            Assert.True(norms[i] <= norms[i - 1] * (1 + 1e-9), $"ln λ = {r.RidgeSweep[i].LnLambda}");
        Assert.True(r.Ridge[0].W.Max(Math.Abs) > 1000 * r.Ridge[2].W.Max(Math.Abs));
    }

    [Fact]
    public void LeastSquares_SquareSystem_MatchesGaussSolve()
    {
        double[,] a =
        {
            { 4, 1, 2 },
            { 1, 5, 3 },
            { 2, 3, 6 },
        };
        double[] b = [1, 2, 3];
        Assert.Equal(LeastSquares.GaussSolve(a, b), LeastSquares.Solve(a, b), (u, v) => Math.Abs(u - v) < 1e-13);
    }

    [Fact]
    public void Perceptron_NotesSamples_ConvergesWithinTheBound()
    {
        var r = PerceptronLab.Train("seed", PerceptronLab.NotesSamples, PerceptronLab.NotesLabels);
        Assert.True(r.Converged);
        Assert.NotNull(r.Bound);
        Assert.True(r.Updates.Count <= r.Bound, $"{r.Updates.Count} updates, bound {r.Bound}");
        for (int i = 0; i < 4; i++)
            Assert.True(
                PerceptronLab.NotesLabels[i]
                    * (r.W[0] * PerceptronLab.NotesSamples[i][0] + r.W[1] * PerceptronLab.NotesSamples[i][1] + r.B)
                    > 0
            );
    }

    [Fact]
    public void Perceptron_Xor_DoesNotConverge()
    {
        var r = PerceptronLab.Train("xor", PerceptronLab.XorSamples, PerceptronLab.XorLabels, maxEpochs: 50);
        Assert.False(r.Converged);
        Assert.Equal(50, r.Epochs);
        Assert.Null(r.Gamma);
    }

    static string TempFile(string name) => Path.Combine(TestEnvironment.NewTempDir(), name);

    [Theory]
    [InlineData("images.idx")]
    [InlineData("images.idx.gz")]
    public void Idx_RoundTrip_RawAndGzip(string name)
    {
        string path = TempFile(name);
        byte[] data = Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)(i * 3)).ToArray();
        Idx.Write(path, Idx.ImagesMagic, [3, 4, 5], data);
        var a = Idx.Read(path, Idx.ImagesMagic);
        Assert.Equal([3, 4, 5], a.Dimensions);
        Assert.Equal(data, a.Data);
    }

    [Fact]
    public void Idx_WrongMagic_IsUsageErrorNamingBoth()
    {
        string path = TempFile("labels.idx");
        Idx.Write(path, Idx.LabelsMagic, [4], [1, 2, 3, 4]);
        var e = Assert.Throws<UsageException>(() => Idx.Read(path, Idx.ImagesMagic));
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("0x00000803", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(20)]
    public void Idx_Truncated_IsUsageError(int keep)
    {
        string full = TempFile("x.idx");
        Idx.Write(full, Idx.ImagesMagic, [2, 3, 3], new byte[18]);
        byte[] bytes = File.ReadAllBytes(full)[..keep];
        var e = Assert.Throws<UsageException>(() => Idx.Parse(bytes, "x.idx", Idx.ImagesMagic));
        Assert.StartsWith("x.idx", e.Message);
    }

    [Fact]
    public void Idx_ZeroSizeAndTrailingBytes_AreUsageErrors()
    {
        byte[] zero = [0, 0, 8, 1, 0, 0, 0, 0];
        Assert.Contains(
            "positive size",
            Assert.Throws<UsageException>(() => Idx.Parse(zero, "z", Idx.LabelsMagic)).Message
        );
        byte[] trailing = [0, 0, 8, 1, 0, 0, 0, 1, 7, 9];
        Assert.Contains(
            "trailing",
            Assert.Throws<UsageException>(() => Idx.Parse(trailing, "t", Idx.LabelsMagic)).Message
        );
    }

    [Fact]
    public void FashionMnist_GeneratedFolder_IsFoundAndLoaded()
    {
        string dir = TestEnvironment.NewTempDir();
        Idx.Write(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Idx.ImagesMagic, [3, 28, 28], new byte[3 * 784]);
        Idx.Write(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), Idx.LabelsMagic, [3], [0, 5, 9]);
        Idx.Write(Path.Combine(dir, "t10k-images-idx3-ubyte"), Idx.ImagesMagic, [2, 28, 28], new byte[2 * 784]);
        Idx.Write(Path.Combine(dir, "t10k-labels-idx1-ubyte"), Idx.LabelsMagic, [2], [1, 2]);
        var loc = FashionMnist.Locate(dir)!;
        Assert.Equal(dir, loc.Folder);
        var train = FashionMnist.Load(loc, true);
        Assert.Equal(3, train.Count);
        Assert.Equal(28, train.Rows);
        // Not Fashion-MNIST's content: verification says so.
        var e = Assert.Throws<UsageException>(() => FashionMnist.Verify(loc));
        Assert.Contains("MD5", e.Message);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void FashionMnist_RealDebianFiles_AdamReachesStatedAccuracy()
    {
        // .ci/run installs Debian's dataset-fashion-mnist; this test reads the real files.
        Assert.True(
            FashionMnist.Locate(TestEnvironment.NewTempDir()) is not null,
            "install dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
        );
        var o = new FashionMnistOptions
        {
            DataDir = TestEnvironment.NewTempDir(),
            Optimizers = ["adam"],
            Epochs = 5,
            Train = 5000,
            Test = 1000,
            Seed = 1,
        };
        var r = FashionMnistLab.Run(o);
        Assert.True(r.Location.Verified);
        var run = r.Runs.Single();
        Assert.True(run.Metrics.MicroAccuracy >= 0.78, $"Adam test accuracy {run.Metrics.MicroAccuracy}");
        Assert.Equal(run.TestAccuracy[^1], run.Metrics.MicroAccuracy, 12);
    }
}
