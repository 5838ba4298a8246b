using System.Diagnostics;
using TorchLabs.Gradients;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// GradCheck.Search raises no false alarm on a catalogue of correct functions (non-smooth ones included: ties at the
/// structured points are kinks, and libtorch's choice there is a limit of nearby gradients), and still finds every
/// backward that is wrong on part of the domain, shrunk to simple values.
/// </summary>
public class SearchCatalogueTests(ITestOutputHelper output)
{
    static readonly SearchOptions Options = new()
    {
        Trials = 30,
        Low = -4,
        High = 4,
        Seed = 5,
    };

    public static TheoryData<string> CorrectNames() => new(SearchCatalogue.Correct().Select(c => c.Name));

    public static TheoryData<string> WrongNames() => new(SearchCatalogue.Wrong().Select(w => w.Case.Name));

    [Fact]
    public void Catalogue_HasAtLeastFortyCorrectFunctions() => Assert.True(SearchCatalogue.Correct().Count() >= 40);

    [Theory]
    [MemberData(nameof(CorrectNames))]
    public void CorrectFunction_NoPointFails(string name)
    {
        using var scope = NewDisposeScope();
        var c = SearchCatalogue.Correct().Single(k => k.Name == name);
        var clock = Stopwatch.StartNew();
        var r = GradCheck.Search(c.Fn, c.Shapes, Options);
        output.WriteLine($"{name}: {r.TrialsRun} points, {clock.ElapsedMilliseconds} ms");
        Assert.True(r.Pass, $"{name}: {r.Describe()}\n{r.Failure?.Message}");
        Assert.Equal(Options.Trials, r.TrialsRun);
    }

    [Theory]
    [InlineData("sum of squares")]
    [InlineData("cross-entropy")]
    public void ConvReluMaxPoolLinear_ThroughSearchModule_NoPointFails(string loss)
    {
        using var scope = NewDisposeScope();
        var net = SearchCatalogue.ConvNet();
        using var labels = tensor(new long[] { 2 });
        Func<Tensor, Tensor> f =
            loss == "cross-entropy" ? y => nn.functional.cross_entropy(y, labels) : y => y.pow(2).sum();
        var r = GradCheck.Search(net, [1, 1, 6, 6], f, Options with { Trials = 15 });
        Assert.True(r.Pass, $"{r.Describe()}\n{r.Failure?.Message}");
    }

    [Theory]
    [MemberData(nameof(WrongNames))]
    public void WrongOnARegion_IsFound_AndShrunkToSimpleValues(string name)
    {
        using var scope = NewDisposeScope();
        var (c, shows) = SearchCatalogue.Wrong().Single(w => w.Case.Name == name);
        var clock = Stopwatch.StartNew();
        var r = GradCheck.Search(c.Fn, c.Shapes, Options with { Trials = 100 });
        output.WriteLine($"{name}: found after {r.TrialsRun} points, {clock.ElapsedMilliseconds} ms: {r.Describe()}");
        Assert.False(r.Pass);
        double[][] x = [.. r.Counterexample!.Select(t => t.data<double>().ToArray())];
        Assert.True(shows(x), r.Describe());
        // Simple values: every element a whole number, a half or a short decimal, never a vanishing magnitude.
        Assert.All(x.SelectMany(v => v), e =>
            Assert.True(e == Math.Round(e, 2) && (e == 0 || Math.Abs(e) >= 0.01), r.Describe())
        );
    }

    [Fact]
    public void XTimesYWrongForNegativeY_ShrinksToMinusOne_WithinAFewChecks()
    {
        using var scope = NewDisposeScope();
        var (c, _) = SearchCatalogue.Wrong().Single(w => w.Case.Name == "negative_y");
        var r = GradCheck.Search(c.Fn, c.Shapes, Options with { Trials = 100, ShrinkBudget = 400 });
        double[] y = r.Counterexample![1].data<double>().ToArray();
        Assert.Contains(-1.0, y); // before: shrunk by halving to −2.5e-60, spending the whole budget
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void TrialsBelowOne_AreRefused(int trials)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            GradCheck.Search(
                v => [v[0].sin()],
                [
                    [2],
                ],
                new SearchOptions { Trials = trials }
            )
        );
        Assert.Contains("Trials", e.Message); // before: Pass = true, "every point passed (-5 checked)"
    }

    [Fact]
    public void ShapeWithAZeroDimension_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            GradCheck.Search(
                v => [v[0].sin()],
                [
                    [2, 0],
                ]
            )
        );
        Assert.Contains("shape of input 0 is [2, 0]", e.Message); // before: ArgumentOutOfRange('startingIndex')
    }
}
