using TorchLabs.Data;
using TorchLabs.Functions;
using TorchLabs.Gradients;
using TorchLabs.Labs;
using TorchLabs.Models;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// The notes' hand derivations as custom autograd Functions: each passes GradCheck and GradGradCheck, each equals
/// libtorch's own ops in value and gradient (float64, 1e-12), and a model trained with the hand backward follows
/// autograd's loss curve.
/// </summary>
public class HandFunctionTests
{
    const double Exact = 1e-12;

    static readonly HandFunctionCase[] Cases = HandFunctions.Cases;

    public static TheoryData<int> Indices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < Cases.Length; i++)
            d.Add(i);
        return d;
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Run_EveryFunctionPassesAllThreeChecks()
    {
        var results = HandFunctions.Run(1);
        Assert.Equal(Cases.Length, results.Count);
        Assert.All(results, r => Assert.True(r.Pass, $"{r.Name}: {r.Failure} (vs autograd {r.MaxAbsVsAutograd:E2})"));
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void HandFunction_PassesGradCheckAndGradGradCheck_AndEqualsAutograd(int index)
    {
        var r = HandFunctions.Check(Cases[index], 100 + (ulong)index);
        Assert.True(r.GradCheckPass, $"{r.Name}: gradcheck: {r.Failure}");
        Assert.True(r.GradGradPass, $"{r.Name}: gradgradcheck: {r.Failure}");
        Assert.True(r.MaxAbsVsAutograd <= Exact, $"{r.Name}: hand vs autograd {r.MaxAbsVsAutograd:E2}");
    }

    [Fact]
    public void Mlp_HandBackward_TrainsLikeAutograd()
    {
        using var scope = NewDisposeScope();
        using var data = new Generator(5);
        var x = rand([64, 20], generator: data);
        var y = randint(0, 10, [64], generator: data);
        double[] Curve(bool hand)
        {
            using var gen = new Generator(9);
            var net = new Mlp([20, 16, 10], "sigmoid", gen, handBackward: hand);
            using var opt = new TorchLabs.Optimizers.Gd(net.parameters(), 0.5);
            var losses = new double[40];
            for (int t = 0; t < losses.Length; t++)
            {
                using var step = NewDisposeScope();
                opt.zero_grad();
                var logits = net.call(x);
                var loss = hand
                    ? SoftmaxCrossEntropyFunction.ApplyLabels(logits, y)
                    : nn.functional.cross_entropy(logits, y);
                loss.backward();
                opt.step();
                losses[t] = loss.item<float>();
            }
            return losses;
        }
        double[] a = Curve(false),
            h = Curve(true);
        Assert.True(a[^1] < a[0] * 0.9, "the autograd run should learn");
        // float32: the two backward passes round differently; the curves agree to float32 accumulation over 40 steps.
        for (int t = 0; t < a.Length; t++)
            Assert.True(Math.Abs(a[t] - h[t]) <= 1e-5 * Math.Abs(a[t]), $"step {t}: autograd {a[t]} hand {h[t]}");
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void FashionMnist_BackwardHand_GivesAutogradsLossCurve()
    {
        Assert.True(
            FashionMnist.Locate(TestEnvironment.NewTempDir()) is not null,
            "install dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
        );
        var o = new FashionMnistOptions
        {
            DataDir = TestEnvironment.NewTempDir(),
            Optimizers = ["sgd"],
            Epochs = 3,
            Train = 1000,
            Test = 200,
            Seed = 1,
        };
        var auto = FashionMnistLab.Run(o).Runs[0];
        var hand = FashionMnistLab.Run(o with { Impl = "hand" }).Runs[0];
        for (int e = 0; e < auto.TrainLoss.Length; e++)
            Assert.True(
                Math.Abs(auto.TrainLoss[e] - hand.TrainLoss[e]) <= 1e-5 * auto.TrainLoss[e],
                $"epoch {e + 1}: autograd {auto.TrainLoss[e]} hand {hand.TrainLoss[e]}"
            );
        Assert.Equal(auto.TestAccuracy[^1], hand.TestAccuracy[^1], 2);
    }
}
