using System.Text.Json;
using TorchLabs.Labs;

namespace TorchLabs.Tests.Optimizers;

/// <summary>Trajectories made by real PyTorch 1.13 (scripts/golden/optimizers.py), with hyper-parameters these tests
/// did not choose.</summary>
public class GoldenTrajectoryTests
{
    public sealed record GoldenCase(
        string Optimizer,
        double Lr,
        double Momentum,
        double Dampening,
        double Alpha,
        double Beta1,
        double Beta2,
        double Eps,
        double WeightDecay,
        double[] Start,
        int Steps,
        double[][] Trajectory
    );

    sealed record GoldenFile(string Generator, string Torch, GoldenCase[] Cases);

    static readonly GoldenCase[] All = JsonSerializer
        .Deserialize<GoldenFile>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "optimizers.json")),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true }
        )!
        .Cases;

    public static TheoryData<int> Indices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < All.Length; i++)
            d.Add(i);
        return d;
    }

    [Fact]
    public void GoldenFile_CoversAllSixOptimizers() =>
        Assert.Equal(OptimizerSpec.Names.Order(), All.Select(c => c.Optimizer).Distinct().Order());

    [Theory]
    [MemberData(nameof(Indices))]
    public void HandAndReference_MatchPyTorchGolden(int index)
    {
        var c = All[index];
        var spec = new OptimizerSpec
        {
            Name = c.Optimizer,
            Lr = c.Lr,
            Momentum = c.Momentum,
            Dampening = c.Dampening,
            Alpha = c.Alpha,
            Beta1 = c.Beta1,
            Beta2 = c.Beta2,
            Eps = c.Eps,
            WeightDecay = c.WeightDecay,
        };
        foreach (var impl in new[] { OptimizerImpl.Hand, OptimizerImpl.Reference, OptimizerImpl.Torch })
        {
            var path = OptimizersLab.Run(spec, impl, c.Start, c.Steps);
            Assert.True(
                OptimizersLab.MaxRelError(path.Points, c.Trajectory) <= 1e-9,
                $"{c.Optimizer} {impl}: max relative error {OptimizersLab.MaxRelError(path.Points, c.Trajectory):E2}"
            );
        }
    }
}
