using TorchLabs.Functions;
using TorchLabs.Gradients;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Reporting;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>One relative error and one activation catalogue, and the report's sentences say what the code
/// computes.</summary>
public class ConsistencyTests
{
    [Fact]
    public void RelError_IsTheInfinityNormOfTheDifferenceOverTheReference()
    {
        Assert.Equal(0.25, HandVsAutograd.RelError([1.5, 2], [1, 2])); // ‖(0.5, 0)‖∞ / ‖(1, 2)‖∞
        Assert.Equal(0.5, HandVsAutograd.RelError([0.5, 0], [0, 0])); // reference all zeros: absolute
        Assert.Equal("‖a − b‖∞ / ‖b‖∞", HandVsAutograd.RelErrorFormula);
    }

    [Fact]
    public void OptimizerPaths_UseTheSameRelativeError()
    {
        double[][] a =

            [
                [1, 1],
                [1.5, 2],
            ],
            b =

            [
                [1, 1],
                [1, 2],
            ];
        Assert.Equal(HandVsAutograd.RelError(a[1], b[1]), OptimizersLab.MaxRelError(a, b));
        Assert.Equal(1, OptimizersLab.FirstDisagreement(a, b));
    }

    static string Text(IEnumerable<Block> blocks) =>
        string.Join(
            "\n",
            blocks.Select(b =>
                b switch
                {
                    Paragraph p => p.Text,
                    Table t => t.Caption ?? "",
                    _ => "",
                }
            )
        );

    [Trait("Speed", "Slow")]
    [Fact]
    public void ReportSentences_NameTheFormulaTheCodeUses()
    {
        var race = OptimizersLab.Race(OptimizersLab.DrawStart(1), 20);
        Assert.Contains(HandVsAutograd.RelErrorFormula, Text(OptimizersReportLab.RaceBlocks(race)));
        var section = new GradCheckLab().Run(
            new LabContext(TestEnvironment.NewTempDir(), 1, TestEnvironment.NewTempDir(), CPU)
        );
        Assert.Contains($"Relative error is {HandVsAutograd.RelErrorFormula}", Text(section.Blocks));
        Assert.Contains(HandVsAutograd.RelErrorFormula, GradCheckLab.Tolerances);
    }

    [Fact]
    public void UnknownActivation_IsRejectedEverywhere_NotDefaulted()
    {
        using var gen = new Generator(1);
        Assert.Throws<UsageException>(() => Activations.Find("swishy"));
        Assert.Throws<UsageException>(() => new Mlp([2, 3, 2], "swishy", gen));
        Assert.Throws<UsageException>(() => MlpL2Gradients.Sigma(zeros(2, ScalarType.Float64), "swishy"));
        Assert.Throws<UsageException>(() => OptimizersLab.CheckMlp(1, 1, "swishy"));
        Assert.Same(Activations.Identity, Activations.Find("identity"));
    }
}
