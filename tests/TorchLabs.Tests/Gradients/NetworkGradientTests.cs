using System.Text.Json;
using TorchLabs.Functions;
using TorchLabs.Gradients;

namespace TorchLabs.Tests.Gradients;

/// <summary>Every hand derivation against autograd (≤ 1e-9 relative) and central differences (≤ 1e-6),
/// float64.</summary>
public class NetworkGradientTests
{
    static void AssertPasses(NetworkCheckResult r)
    {
        Assert.NotEmpty(r.Entries);
        foreach (var e in r.Entries)
        {
            Assert.True(
                e.RelError <= HandVsAutograd.AutogradTolerance,
                $"{r.Network} {e.Name}: hand vs autograd {e.RelError:E2}"
            );
            if (e.Numeric is not null)
                Assert.True(
                    e.NumericRelError <= HandVsAutograd.NumericTolerance,
                    $"{r.Network} {e.Name}: hand vs central differences {e.NumericRelError:E2}"
                );
        }
        Assert.True(r.Pass);
    }

    public static TheoryData<int, int, int, int, int, int, int, long> CnnShapes() =>
        new()
        {
            { 2, 8, 8, 3, 3, 2, 4, 1 },
            { 1, 6, 6, 2, 3, 2, 2, 2 },
            { 3, 9, 7, 2, 2, 3, 3, 3 },
            { 1, 5, 5, 1, 2, 2, 2, 4 },
        };

    [Theory]
    [MemberData(nameof(CnnShapes))]
    public void SmallCnn_UntiedAndTiedBias_MatchAutograd(
        int cin,
        int h,
        int w,
        int cout,
        int k,
        int pool,
        int classes,
        long seed
    )
    {
        var shape = new SmallCnnShape(cin, h, w, cout, k, pool, classes);
        foreach (bool tied in new[] { false, true })
        {
            var r = SmallCnnCheck.Run(shape, tied, seed);
            AssertPasses(r);
            Assert.Equal(SmallCnnGrads.Names, r.Entries.Select(e => e.Name));
            var db1 = r.Entries.Single(e => e.Name == "dL/db1");
            Assert.Equal(tied ? 1 : 3, db1.Shape.Length);
        }
    }

    [Theory]
    [InlineData(new[] { 3, 4, 2 }, "sigmoid", 1)]
    [InlineData(new[] { 5, 7, 6, 4, 3 }, "sigmoid", 2)]
    [InlineData(new[] { 1, 1 }, "tanh", 3)]
    [InlineData(new[] { 2, 9, 9, 9, 9, 9, 2 }, "tanh", 4)]
    public void MlpL2_DeltaRecursion_MatchesAutograd(int[] sizes, string activation, long seed)
    {
        var r = MlpL2Check.Run(sizes, activation, seed);
        AssertPasses(r);
        Assert.Equal(3 * (sizes.Length - 1), r.Entries.Count);
    }

    [Theory]
    [InlineData(new[] { 3, 4, 2 }, "sigmoid", 1)]
    [InlineData(new[] { 4, 6, 6, 5 }, "tanh", 2)]
    [InlineData(new[] { 1, 3, 1 }, "sigmoid", 3)]
    public void ChainDyDx_ProductOfJacobians_MatchesAutogradAndCentralDifferences(
        int[] sizes,
        string activation,
        long seed
    )
    {
        var r = ChainJacobian.Run(sizes, activation, seed);
        AssertPasses(r);
        Assert.Equal([(long)sizes[^1], sizes[0]], r.Entries[0].Shape);
        Assert.NotNull(r.Entries[0].Numeric);
    }

    [Fact]
    public void GraphExamples_NodeValuesAreTheTextbooks()
    {
        var poly = GraphExamples.Polynomial();
        Assert.Equal(42, poly.Single(n => n.Name == "f").Forward);
        Assert.Equal(24, poly.Single(n => n.Name == "x").HandBackward); // 2xy
        Assert.Equal(10, poly.Single(n => n.Name == "y").HandBackward); // x² + 1
        Assert.All(poly, n => Assert.Equal(n.HandBackward, n.AutogradBackward, 12));
        var neuron = GraphExamples.Neuron();
        Assert.Equal(0.5, neuron.Single(n => n.Name == "s").Forward);
        Assert.Equal(0.25, neuron.Single(n => n.Name == "w").HandBackward);
        Assert.Equal(0.25, neuron.Single(n => n.Name == "w").AutogradBackward);
        Assert.Equal(0.25, neuron.Single(n => n.Name == "b").HandBackward);
        Assert.Equal(0, neuron.Single(n => n.Name == "x").HandBackward);
        Assert.All(neuron, n => Assert.Equal(n.HandBackward, n.AutogradBackward, 12));
        AssertPasses(GraphExamples.AsResult("poly", poly, v => v[0] * v[0] * v[1] + v[1] + 2));
    }

    [Fact]
    public void Activations_HandDerivatives_MatchAutogradOnGridAndAtKinks()
    {
        var r = ActivationsCheck.Run();
        AssertPasses(r);
        Assert.Equal(0, r.Entries.Single(e => e.Name == "relu'(0)").Autograd[0]);
        Assert.Equal(0.01, r.Entries.Single(e => e.Name == "leaky_relu'(0)").Autograd[0]);
        Assert.Equal(1, r.Entries.Single(e => e.Name == "elu'(0)").Autograd[0]);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(-1.3)]
    [InlineData(2.7)]
    [InlineData(4.5)]
    [InlineData(0)]
    public void Erf_MatchesLibtorch(double x) =>
        Assert.Equal(TorchSharp.torch.special.erf(TorchSharp.torch.tensor(x)).item<double>(), Activations.Erf(x), 13);

    [Theory]
    [InlineData(new[] { 12, 5, 4, 3, 1 }, 10, 0.7, 1)]
    [InlineData(new[] { 6, 3, 1 }, 4, 0.0, 2)]
    [InlineData(new[] { 8, 20, 7, 5, 1 }, 25, 2.0, 3)]
    public void VectorBackprop_NotesFormulasWithL2_MatchAutograd(int[] sizes, int m, double lambd, long seed)
    {
        var r = VectorBackprop.Run(sizes, m, lambd, seed);
        AssertPasses(r);
    }

    sealed record GoldenFile(GoldenCase[] Cases);

    sealed record GoldenCase(JsonElement Case, double Loss, Dictionary<string, JsonElement> Grads);

    [Fact]
    public void DropoutConcat_MatchesPyTorchGolden()
    {
        var file = JsonSerializer.Deserialize<GoldenFile>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "dropout_concat.json")),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true }
        )!;
        Assert.NotEmpty(file.Cases);
        foreach (var g in file.Cases)
        {
            var c = DropoutConcatCase.Parse(g.Case.GetRawText(), "golden");
            var r = DropoutConcatCheck.Run(c);
            Assert.Equal(g.Loss, r.Loss, 1e-12 * Math.Max(1, Math.Abs(g.Loss)));
            foreach (var e in r.Entries)
            {
                double[] torchValues = Flatten(g.Grads[e.Name]).ToArray();
                Assert.True(
                    HandVsAutograd.RelError(e.Hand, torchValues) <= 1e-9,
                    $"{e.Name}: {HandVsAutograd.RelError(e.Hand, torchValues):E2}"
                );
            }
        }
    }

    static IEnumerable<double> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten) : [e.GetDouble()];
}
