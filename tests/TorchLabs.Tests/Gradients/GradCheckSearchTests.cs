using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>GradCheck.Search: many seeded points of a box, a failing one shrunk toward the simplest.</summary>
public class GradCheckSearchTests
{
    [Fact]
    public void RegionOnlyError_PassesAtPyTorchsUsualPoint_AndSearchFindsItShrunk()
    {
        using var gen = new Generator(0);
        // PyTorch's habit: one point in [0, 1)
        using var usual = rand([3], ScalarType.Float64, generator: gen).requires_grad_(true);
        Assert.True(GradCheck.Check(v => [SinWrongBelowMinusOne.apply(v[0])], [usual]).Pass);

        var r = GradCheck.Search(
            v => [SinWrongBelowMinusOne.apply(v[0])],
            [
                [3],
            ],
            new SearchOptions
            {
                Low = -4,
                High = 4,
                Seed = 1,
            }
        );
        Assert.False(r.Pass);
        double[] x = r.Counterexample![0].data<double>().ToArray();
        Assert.Contains(x, v => v < -1);
        Assert.Equal(2, x.Count(v => v == 0)); // the other elements shrunk to 0
        Assert.All(x, v => Assert.Equal(v, Math.Round(v * 2) / 2)); // whole numbers or halves
        Assert.False(r.Failure!.Pass);
        Assert.StartsWith("input 0 = [", r.Describe());
    }

    [Fact]
    public void RightBackward_PassesEveryPoint()
    {
        var r = GradCheck.Search(
            v => [v[0].sin() * v[1]],
            [
                [2],
                [2],
            ],
            new SearchOptions { Trials = 40, Seed = 2 }
        );
        Assert.True(r.Pass);
        Assert.Equal(40, r.TrialsRun);
        Assert.Null(r.Counterexample);
    }

    [Fact]
    public void PointsFailingOnlyAtKinks_AreNotCounterexamples()
    {
        // relu: the structured points put zeros on the kink; libtorch's 0 there is a subgradient.
        var r = GradCheck.Search(
            v => [v[0].relu()],
            [
                [3],
            ],
            new SearchOptions { Trials = 20 }
        );
        Assert.True(r.Pass);
    }

    [Fact]
    public void ModuleVariant_SearchesOverTheInput()
    {
        using var gen = new Generator(3);
        var net = nn.Sequential(("fc", nn.Linear(2, 2)), ("tanh", nn.Tanh()));
        net.to(ScalarType.Float64);
        Assert.True(GradCheck.Search(net, [1, 2], y => y.sum(), new SearchOptions { Trials = 10 }).Pass);
    }
}
