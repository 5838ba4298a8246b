using TorchLabs.Labs;

namespace TorchLabs.Tests.Labs;

public class VectorBackpropTests
{
    [Fact]
    public void FirstCost_IsTheDocuments_InBothImplementations()
    {
        var r = VectorBackpropLab.Run(new VectorBackpropOptions { Iterations = 1 });
        Assert.Equal(2, r.Tables.Count);
        Assert.All(r.Tables, t => Assert.Equal(0.69301356, t.Costs[0].Cost, 1e-8));
    }

    [Fact]
    public void SmallNetwork_ReferenceFormulasAndAutograd_AgreeAtEveryPrint()
    {
        var o = new VectorBackpropOptions
        {
            Dims = [30, 6, 4, 1],
            M = 25,
            Iterations = 300,
            PrintEvery = 10,
            Lambd = 0.5,
            LearningRate = 0.05,
        };
        var r = VectorBackpropLab.Run(o);
        Assert.Equal(30, r.Tables[0].Costs.Count);
        Assert.NotNull(r.MaxRelDifference);
        Assert.True(r.MaxRelDifference <= 1e-9, $"{r.MaxRelDifference:E2}");
        var torchRng = VectorBackpropLab.Run(o with { Rng = "torch" });
        Assert.True(torchRng.MaxRelDifference <= 1e-9);
    }

    /// <summary>Long (about 25 s on one thread): the TorchSharp implementation's full table against the document's
    /// twenty values.</summary>
    [Trait("Speed", "Slow")]
    [Fact]
    public void FullRun_MatchesTheDocumentsTwentyCosts()
    {
        var r = VectorBackpropLab.Run(new VectorBackpropOptions { Impl = "torch" });
        var costs = r.Tables.Single().Costs;
        Assert.Equal(20, costs.Count);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(i * 100, costs[i].Iteration);
            Assert.True(
                Math.Abs(costs[i].Cost - VectorBackpropLab.DocumentCosts[i]) <= 5e-9,
                $"iteration {i * 100}: {costs[i].Cost} vs {VectorBackpropLab.DocumentCosts[i]}"
            );
            Assert.Equal(
                VectorBackpropLab.Numpy8(VectorBackpropLab.DocumentCosts[i]),
                VectorBackpropLab.Numpy8(costs[i].Cost)
            );
        }
    }

    [Fact]
    public void CostLine_IsTheDocumentsFormat()
    {
        Assert.Equal("cost after iteration 0: 0.69301356", VectorBackpropLab.CostLine(0, 0.693013564));
        Assert.Equal("cost after iteration 600: 0.5739967", VectorBackpropLab.CostLine(600, 0.573996701));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void InitAsWritten_Diverges_ExitOneWithTheDocumentedError()
    {
        var res = TestEnvironment.RunInProcess(
            "vector-backprop",
            "--init",
            "as-written",
            "--impl",
            "torch",
            "--iterations",
            "50",
            "--threads",
            "1",
            "--out",
            TestEnvironment.NewTempDir()
        );
        Assert.Equal(1, res.ExitCode);
        Assert.StartsWith("cost after iteration 0: 10.40", res.StdOut);
        Assert.Contains("diverged: 10.40 at iteration 0", res.StdErr);
        Assert.Contains("NaN or infinite from iteration", res.StdErr);
        Assert.DoesNotContain("NaN", res.StdOut);
    }
}
