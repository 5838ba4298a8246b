using System.Text.Json;
using TorchLabs.Gradients;
using TorchLabs.Labs;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Labs;

public class DeepStacksTests
{
    [Theory]
    [InlineData("sigmoid", "normal-1")]
    [InlineData("relu", "he")]
    [InlineData("tanh", "zero")]
    [InlineData("relu", "normal-1")]
    public void Histograms_CountsAddUpTo1000x100PerLayer(string activation, string init)
    {
        var run = HistogramsLab.Run(activation, init, 3);
        Assert.Equal(5, run.Layers.Count);
        Assert.All(run.Layers, l =>
        {
            Assert.Equal(1000L * 100, l.Histogram.Counts.Sum());
            Assert.Equal(l.Histogram.Counts.Length + 1, l.Histogram.Edges.Length);
        });
    }

    [Theory]
    [InlineData("sigmoid")]
    [InlineData("relu")]
    [InlineData("tanh")]
    public void ZeroWeights_EveryUnitOfALayerIsTheSame(string activation)
    {
        var run = HistogramsLab.Run(activation, "zero", 1);
        Assert.All(run.Layers, l => Assert.Equal(0, l.Std, 15));
        Assert.All(run.Layers, l => Assert.Equal(1, l.Histogram.Counts.Count(c => c > 0)));
    }

    [Fact]
    public void Sigmoid_Normal1Saturates_Normal001CollapsesToHalf()
    {
        var wide = HistogramsLab.Run("sigmoid", "normal-1", 1);
        Assert.All(wide.Layers, l => Assert.True(l.Saturated > 0.3, $"saturated {l.Saturated}"));
        var narrow = HistogramsLab.Run("sigmoid", "normal-0.01", 1);
        Assert.All(narrow.Layers.Skip(1), l =>
        {
            Assert.Equal(0.5, l.Mean, 2);
            Assert.True(l.Std < 0.02, $"std {l.Std}"); // ≈ 0.01 · √(100 · 0.5²) · σ′(0) = 0.0125
            Assert.Equal(0, l.Saturated);
        });
    }

    [Fact]
    public void Vanishing_SigmoidShrinksGeometrically_ResidualStaysBounded()
    {
        var o = new VanishingOptions
        {
            Depth = 60,
            Width = 16,
            TrainDepths = [],
            Steps = 0,
        };
        var r = VanishingLab.Run(o);
        var s = r.GradNorms["sigmoid"].Weight;
        // Every 10 layers towards the input the sigmoid stack's gradient loses at least a factor 4^5 (half the notes'
        // bound's rate).
        for (int i = 0; i + 10 < s.Length; i += 10)
            Assert.True(
                s[i] < s[i + 10] * Math.Pow(4, -5),
                $"layer {i + 1}: {s[i]:E2} vs layer {i + 11}: {s[i + 10]:E2}"
            );
        var res = r.GradNorms["residual"].Weight;
        Assert.True(res.Max() / res.Min() < 100, $"residual spread {res.Max() / res.Min():E2}");
        Assert.All(r.Bound.Zip(r.GradNorms["sigmoid"].Activation), p =>
            Assert.True(p.Second <= p.First * 1.0000001 || p.First > 0)
        );
    }

    [Theory]
    [InlineData("sigmoid")]
    [InlineData("relu")]
    [InlineData("residual")]
    public void ThreeLayerStack_PerLayerGradients_EqualHandComputation(string stack)
    {
        using var gen = new Generator(5);
        var net = VanishingLab.Make(stack, 3, 6, 3, gen, ScalarType.Float64);
        var x = randn([7, 6], ScalarType.Float64, generator: gen);
        var y = tensor(new long[] { 0, 1, 2, 0, 1, 2, 1 });
        var (a, scores) = net.Forward(x);
        for (int i = 1; i <= 3; i++)
            a[i].retain_grad();
        nn.functional.cross_entropy(scores, y).backward();
        var (dW, dA) = StackGradients.Compute(net, x, y);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(
                HandVsAutograd.RelError(GradCheck.Values(dW[i]), GradCheck.Values(net.Layers[i].weight!.grad!)) <= 1e-9,
                $"dW{i + 1}"
            );
            Assert.True(
                HandVsAutograd.RelError(GradCheck.Values(dA[i]), GradCheck.Values(a[i + 1].grad!)) <= 1e-9,
                $"da{i + 1}"
            );
        }
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Training_ResidualLearns_DeepSigmoidStalls()
    {
        var o = new VanishingOptions
        {
            Width = 16,
            TrainDepths = [30],
            Steps = 150,
            Depth = 5,
        };
        var r = VanishingLab.Run(o);
        var sig = r.Training.Single(c => c.Stack == "sigmoid");
        var res = r.Training.Single(c => c.Stack == "residual");
        Assert.True(res.FinalAccuracy > 0.9, $"residual accuracy {res.FinalAccuracy}");
        // Stalled: no better than predicting the class frequencies (cross-entropy ln 4 for 4 balanced-ish classes).
        Assert.True(sig.Loss[^1] > Math.Log(4) - 0.1, $"sigmoid loss {sig.Loss[0]} -> {sig.Loss[^1]}");
        Assert.True(sig.FinalAccuracy < 0.5, $"sigmoid accuracy {sig.FinalAccuracy}");
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_SameSeed_SameJson()
    {
        string[] args =
        [
            "histograms",
            "--activation",
            "tanh",
            "--init",
            "xavier",
            "--seed",
            "4",
            "--format",
            "json",
            "--threads",
            "1",
        ];
        var a = TestEnvironment.RunInProcess(args);
        var b = TestEnvironment.RunCli(args);
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.StdOut, b.StdOut);
        using var doc = JsonDocument.Parse(a.StdOut);
        var run = doc.RootElement.GetProperty("runs")[0];
        Assert.Equal("tanh", run.GetProperty("activation").GetString());
        Assert.Equal("xavier", run.GetProperty("init").GetString());
        Assert.Equal(5, run.GetProperty("layers").GetArrayLength());
        var v1 = TestEnvironment.RunInProcess(
            "vanishing",
            "--depth",
            "8",
            "--width",
            "8",
            "--train-depths",
            "4",
            "--steps",
            "5",
            "--format",
            "json",
            "--threads",
            "1"
        );
        var v2 = TestEnvironment.RunCli(
            "vanishing",
            "--depth",
            "8",
            "--width",
            "8",
            "--train-depths",
            "4",
            "--steps",
            "5",
            "--format",
            "json",
            "--threads",
            "1"
        );
        Assert.True(v1.ExitCode == 0, v1.StdErr);
        Assert.Equal(v1.StdOut, v2.StdOut);
        using var vd = JsonDocument.Parse(v1.StdOut);
        Assert.Equal(8, vd.RootElement.GetProperty("gradNorms").GetProperty("sigmoid").GetArrayLength());
        Assert.Equal(8, vd.RootElement.GetProperty("bound").GetArrayLength());
        // The model summary of the deepest sigmoid stack: its parameters counted as parameters().Sum(numel) counts
        // them.
        using var gen = new TorchSharp.torch.Generator(0);
        long expected = TorchLabs.Labs.VanishingLab.Make("sigmoid", 8, 8, 4, gen).parameters().Sum(p => p.numel());
        Assert.Equal(
            expected,
            vd.RootElement.GetProperty("summary").GetProperty("totals").GetProperty("parameters").GetInt64()
        );
    }
}
