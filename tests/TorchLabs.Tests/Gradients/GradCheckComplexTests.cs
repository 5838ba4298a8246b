using TorchLabs.Gradients;
using static TorchLabs.Tests.Gradients.Leaves;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// Complex inputs and outputs as PyTorch 1.13's gradcheck checks them (its verdicts and numbers are pinned case by case
/// in <see cref="GradCheckSuiteTests"/>): a function with complex outputs is two real functions, the imaginary parts
/// first; a complex input's entries are ∂s/∂x + i·∂s/∂y against backward's gradient (the conjugate Wirtinger
/// convention).
/// </summary>
public class GradCheckComplexTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHolomorphicBackward_WithoutTheConjugate_Fails_InTheImaginaryPartFirst(bool fast)
    {
        using var scope = NewDisposeScope();
        var o = new GradCheckOptions { FastMode = fast };
        Assert.True(GradCheck.Check(v => [SuiteFunctions.CSquare.apply(v[0])], [ComplexLeaf(1, 3)], o).Pass);
        var r = GradCheck.Check(v => [SuiteFunctions.CSquareMissingConj.apply(v[0])], [ComplexLeaf(1, 3)], o);
        Assert.False(r.Pass);
        Assert.StartsWith(
            "While considering the imaginary part of complex outputs only, Jacobian mismatch for output 0 with respect "
                + "to input 0,",
            r.Message
        );
        // the real part is not checked once the imaginary fails
        Assert.All(r.Blocks, b => Assert.Equal("imaginary", b.Part));
    }

    [Fact]
    public void ComplexEntries_AreDsDxPlusIDsDy_AndPrintedAsComplexNumbers()
    {
        using var scope = NewDisposeScope();
        var z = ComplexLeaf(2, 2);
        // s = |z|² = x² + y²: ∂s/∂x + i·∂s/∂y = 2x + 2iy = 2z.
        var r = GradCheck.Check(v => [(v[0] * v[0].conj()).real], [z]);
        Assert.True(r.Pass, r.Message);
        var block = Assert.Single(r.Blocks);
        Assert.Null(block.Part); // the output is real
        double[] values = GradCheck.Values(z);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(2 * values[2 * k], block.Numerical[k, k], 6);
            Assert.Equal(2 * values[2 * k + 1], block.NumericalImaginary![k, k], 6);
            Assert.Equal(2 * values[2 * k + 1], block.AnalyticalImaginary![k, k], 12);
        }
        Assert.Equal(
            "[[1.0000+2.0000j, 0.0000-0.5000j]]",
            GradCheck.Format(
                new double[,]
                {
                    { 1, 0 },
                },
                new double[,]
                {
                    { 2, -0.5 },
                }
            )
        );
    }

    [Fact]
    public void FastMode_DrawsASecondVector_ForTheImaginaryParts()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(
            v => [v[0] * v[1]],
            [ComplexLeaf(3, 3), Leaf(30, 3)],
            new GradCheckOptions { FastMode = true }
        );
        Assert.True(r.Pass, r.Message);
        Assert.All(r.FastBlocks.Where(b => b.Input == 0), b => Assert.Equal(3, b.UImaginary!.Length));
        Assert.All(r.FastBlocks.Where(b => b.Input == 1), b => Assert.Null(b.UImaginary));
        Assert.Equal(["imaginary", "imaginary", "real", "real"], r.FastBlocks.Select(b => b.Part));
    }

    [Fact]
    public void ComplexInputs_AreRestored_AndAnAliasedOutputStaysUsable()
    {
        using var scope = NewDisposeScope();
        var z = ComplexLeaf(4, 3);
        double[] before = GradCheck.Values(z);
        Assert.True(GradCheck.Check(v => [v[0]], [z]).Pass);
        Assert.True(GradCheck.Check(v => [v[0]], [z], new GradCheckOptions { FastMode = true }).Pass);
        Assert.Equal(before, GradCheck.Values(z));
    }

    [Fact]
    public void Complex64_GivesPyTorchsWarning()
    {
        using var scope = NewDisposeScope();
        var z = ComplexLeaf(5, 3).detach().to_type(ScalarType.ComplexFloat32).requires_grad_(true);
        var r = GradCheck.Check(
            v => [v[0].exp()],
            [z],
            new GradCheckOptions
            {
                Atol = 1e-2,
                Rtol = 1e-2,
                Eps = 1e-3,
            }
        );
        Assert.StartsWith(
            "Input #0 requires gradient and is not a double precision floating point or complex.",
            Assert.Single(r.Warnings)
        );
    }
}
