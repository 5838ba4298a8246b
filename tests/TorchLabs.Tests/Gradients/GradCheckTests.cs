using TorchLabs.Gradients;
using static TorchLabs.Tests.Gradients.Leaves;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>GradCheck's contract: PyTorch's defaults, and every known kind of wrong backward fails.</summary>
public class GradCheckTests
{
    [Fact]
    public void Options_DefaultToPyTorchs()
    {
        var o = new GradCheckOptions();
        Assert.Equal((1e-6, 1e-5, 1e-3, 0.0), (o.Eps, o.Atol, o.Rtol, o.NondetTol));
    }

    [Fact]
    public void Check_CorrectBackward_PassesWithEveryBlock()
    {
        using var scope = NewDisposeScope();
        Tensor A = Leaf(1, 3, 4),
            x = Leaf(2, 4);
        var r = GradCheck.Check(v => [matmul(v[0], v[1]).tanh(), v[1].sum()], [A, x]);
        Assert.True(r.Pass, r.Message);
        Assert.Equal(4, r.Blocks.Count); // 2 outputs × 2 inputs
        var block = r.Blocks.Single(b => b.Output == 0 && b.Input == 0);
        // PyTorch's orientation: a row per input element
        Assert.Equal((12, 3), (block.Analytical.GetLength(0), block.Analytical.GetLength(1)));
        Assert.True(r.MaxAbsError < 1e-8, $"{r.MaxAbsError:E2}");
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Check_ColumnsOnlyForInputsThatRequireGrad()
    {
        using var scope = NewDisposeScope();
        var A = Leaf(1, 3, 4).detach();
        var x = Leaf(2, 4);
        var r = GradCheck.Check(v => [matmul(v[0], v[1])], [A, x]);
        Assert.True(r.Pass, r.Message);
        // input 0 of those requiring grad, as PyTorch counts
        Assert.All(r.Blocks, b => Assert.Equal((0, 1), (b.Input, b.InputPosition)));
    }

    [Fact]
    public void Check_UnusedInput_HasZeroJacobianAndPasses()
    {
        using var scope = NewDisposeScope();
        Tensor x = Leaf(1, 3),
            y = Leaf(2, 2);
        var r = GradCheck.Check(v => [v[0] * 2], [x, y]);
        Assert.True(r.Pass, r.Message);
        var unused = r.Blocks.Single(b => b.Input == 1);
        Assert.All(unused.Analytical.Cast<double>(), v => Assert.Equal(0, v));
        Assert.All(unused.Numerical.Cast<double>(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void Check_NoOutputWithGraph_DemandsAZeroNumericalJacobian()
    {
        using var scope = NewDisposeScope();
        var x = Leaf(1, 3);
        // The only output is cut from the graph but depends on x: PyTorch demands a zero numerical Jacobian, and says
        // so.
        var r = GradCheck.Check(v => [v[0].detach() * 1.0], [x]);
        Assert.False(r.Pass);
        Assert.StartsWith("Numerical gradient for function expected to be zero", r.Message);
        Assert.True(GradCheck.Check(v => [ones(3, ScalarType.Float64)], [x]).Pass);
    }

    [Fact]
    public void Check_Float32Input_Warns()
    {
        using var scope = NewDisposeScope();
        var x = Leaf(1, 3).detach().to_type(ScalarType.Float32).requires_grad_(true);
        var r = GradCheck.Check(v => [v[0] * 3], [x], new GradCheckOptions { Eps = 1e-2, Atol = 1e-2 });
        Assert.Contains(r.Warnings, w => w.Contains("not a double precision"));
    }

    [Fact]
    public void Check_NoInputRequiresGrad_Throws() =>
        Assert.Throws<ArgumentException>(() => GradCheck.Check(v => [v[0] * 2], [ones(2, ScalarType.Float64)]));

    [Fact]
    public void Check_BackwardOffByAFactor_Fails()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(WrongBackwards.ByName["sin_twice"], [Leaf(3, 4)]);
        Assert.False(r.Pass);
        var m = Assert.Single(r.Mismatches);
        // Analytical = 2 cos x on the diagonal, numerical = cos x: the error is |cos x|.
        for (int k = 0; k < 4; k++)
            Assert.Equal(2 * m.Numerical[k, k], m.Analytical[k, k], 1e-8);
    }

    [Fact]
    public void Check_TransposedJacobian_Fails()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(WrongBackwards.ByName["matvec_transposed"], [Leaf(4, 3, 3), Leaf(5, 3)]);
        Assert.False(r.Pass);
        var m = Assert.Single(r.Mismatches);
        Assert.Equal(1, m.Input);
        for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            Assert.Equal(m.Numerical[b, a], m.Analytical[a, b], 1e-8); // exactly the transpose
    }

    [Fact]
    public void Check_MissingTerm_Fails()
    {
        using var scope = NewDisposeScope();
        Assert.False(GradCheck.Check(WrongBackwards.ByName["x_sin_x_missing_term"], [Leaf(6, 4)]).Pass);
    }

    [Fact]
    public void Check_NoisyBackward_FailsEvenWhenNondetTolAllowsTheNoise()
    {
        using var scope = NewDisposeScope();
        WrongBackwards.NoisySin.Noise = new Generator(11);
        Func<Tensor[], Tensor[]> f = v => [WrongBackwards.NoisySin.apply(v[0])];
        var strict = GradCheck.Check(f, [Leaf(7, 4)]);
        Assert.False(strict.Pass);
        Assert.StartsWith("Backward is not reentrant", strict.Message);
        // NondetTol forgives the two runs' difference, not noise added to the gradient: with zero grad_outputs the
        // gradient is the noise, not zero (PyTorch's _test_backward_mul_by_grad_output fails it too).
        var lenient = GradCheck.Check(f, [Leaf(7, 4)], new GradCheckOptions { NondetTol = 1e-8 });
        Assert.False(lenient.Pass);
        Assert.StartsWith("backward not multiplied by grad_output", lenient.Message);
    }

    [Fact]
    public void Check_BackwardThatModifiesItsInput_Fails()
    {
        using var scope = NewDisposeScope();
        var x = Leaf(8, 4);
        double[] before = GradCheck.Values(x);
        var r = GradCheck.Check(v => [SuiteFunctions.SinModifiesInput.apply(v[0])], [x]);
        Assert.False(r.Pass);
        Assert.Contains("Backward modified input 0", r.Message);
        Assert.Equal(before, GradCheck.Values(x)); // restored
    }

    [Fact]
    public void Assert_Throws_WithPyTorchsWording()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<GradCheckException>(() =>
            GradCheck.Assert(WrongBackwards.ByName["sin_twice"], [Leaf(3, 4)])
        );
        Assert.StartsWith("Jacobian mismatch for output 0 with respect to input 0,", e.Message);
        Assert.Contains("numerical:", e.Message);
        Assert.Contains("analytical:", e.Message);
        GradCheck.Assert(WrongBackwards.ByName["sin_correct"], [Leaf(3, 4)]); // no exception
    }

    /// <summary>sin whose backward is computed from detached values: right first derivative, no second.</summary>
    public sealed class SinDetachedBackward : SingleTensorFunction<SinDetachedBackward>
    {
        public override string Name => nameof(SinDetachedBackward);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return x.sin();
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g) =>
            [g * ctx.get_saved_variables()[0].detach().cos()];
    }

    [Fact]
    public void GradGradCheck_SmoothFunctions_Pass()
    {
        using var scope = NewDisposeScope();
        GradCheck.AssertGradGrad(v => [matmul(v[0], v[1]).softmax(0), v[1].pow(3).sum()], [Leaf(9, 3, 4), Leaf(10, 4)]);
        GradCheck.AssertGradGrad(WrongBackwards.ByName["sin_correct"], [Leaf(3, 4)]);
    }

    [Fact]
    public void GradGradCheck_BackwardWithoutSecondDerivative_Fails()
    {
        using var scope = NewDisposeScope();
        Func<Tensor[], Tensor[]> f = v => [SinDetachedBackward.apply(v[0])];
        Assert.True(GradCheck.Check(f, [Leaf(3, 4)]).Pass);
        var r = GradCheck.GradGradCheck(f, [Leaf(3, 4)]);
        Assert.False(r.Pass);
        Assert.Contains("Jacobian mismatch for output 0 with respect to input 0", r.Message);
    }

    [Fact]
    public void GradGradCheck_SameSeed_SameResult()
    {
        using var scope = NewDisposeScope();
        var a = GradCheck.GradGradCheck(v => [v[0].tanh()], [Leaf(1, 3)], options: new GradCheckOptions { Seed = 5 });
        var b = GradCheck.GradGradCheck(v => [v[0].tanh()], [Leaf(1, 3)], options: new GradCheckOptions { Seed = 5 });
        Assert.Equal(a.MaxAbsError, b.MaxAbsError);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InfiniteNumericalEntry_AgainstAFiniteBackward_Fails_AsTorchIscloseDoes(bool fast)
    {
        // x = 0.5 − 1e-6: the step of 1e-6 lands on the pole, so the central difference is +∞ and the backward says 0.
        // Before, ∞ ≤ ∞ passed it.
        using var x = tensor(new[] { 0.5 - 1e-6 }, ScalarType.Float64).requires_grad_(true);
        var r = GradCheck.Check(
            v => [SuiteFunctions.PoleZeroBackward.apply(v[0])],
            [x],
            new GradCheckOptions { FastMode = fast }
        );
        Assert.False(r.Pass);
    }

    [Fact]
    public void BackwardOutsideTheOneSidedSlopes_AtAKink_IsABackwardError_NotOnlyKinks()
    {
        using var x = tensor(new[] { 0.0, 0.7 }, ScalarType.Float64).requires_grad_(true);
        var r = GradCheck.Check(v => [SuiteFunctions.ReluFiveAtKink.apply(v[0])], [x]);
        Assert.False(r.Pass);
        Assert.False(r.OnlyKinks); // before: "not a backward error"
        using var y = tensor(new[] { 0.0, 0.7 }, ScalarType.Float64).requires_grad_(true);
        Assert.True(GradCheck.Check(v => [v[0].relu()], [y]).OnlyKinks); // libtorch's 0 at the kink is a subgradient
    }

    [Fact]
    public void SmoothStationaryPoint_IsNotAKink_SoAWrongBackwardThereIsReported()
    {
        using var x = tensor(new[] { 0.0 }, ScalarType.Float64).requires_grad_(true);
        var r = GradCheck.Check(v => [QuadraticOffBy.apply(v[0])], [x]);
        Assert.False(r.Pass);
        Assert.False(r.OnlyKinks); // before: 10x² at 0 counted as a kink (left −1e-5, right 1e-5)
        Assert.Empty(r.Mismatches.SelectMany(b => b.Kinks));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FunctionReturningItsInput_LeavesTheCallersTensorAlive(bool fast)
    {
        using var x = tensor(new[] { 0.5, -1.0 }, ScalarType.Float64).requires_grad_(true);
        var r = GradCheck.Check(v => [v[0]], [x], new GradCheckOptions { FastMode = fast });
        Assert.True(r.Pass);
        Assert.Equal(-0.5, x.sum().item<double>()); // before: the check disposed x ("Tensor invalid -- empty handle")
    }

    [Fact]
    public void BackwardThatFails_InTheFunctionalApiAndGradGradCheck_IsAnException_NotTheEndOfTheProcess()
    {
        // A backward returning a gradient of the wrong shape: TorchSharp's autograd.grad lets libtorch's error end the
        // process.
        using var x = tensor(new[] { 0.5, -1.0 }, ScalarType.Float64).requires_grad_(true);
        Assert.ThrowsAny<Exception>(() =>
            AutogradFunctional.Jacobian(v => [SuiteFunctions.SinWrongShape.apply(v[0])], [x])
        );
        Assert.False(GradCheck.GradGradCheck(v => [SuiteFunctions.SinWrongShape.apply(v[0])], [x]).Pass);
    }

    [Fact]
    public void GradGradCheck_WithNoOutputThatRequiresGrad_Raises_AsPyTorchDoes()
    {
        using var x = tensor(new[] { 0.5, -1.0 }, ScalarType.Float64).requires_grad_(true);
        // before: passed
        Assert.Throws<ArgumentException>(() => GradCheck.GradGradCheck(v => [v[0].detach() * 2], [x]));
    }

    [Fact]
    public void Assert_SurfacesWarnings_AndFailsOnThemWhenAsked()
    {
        using var x = tensor(new[] { 0.5f, -1.0f }).requires_grad_(true); // float32: PyTorch's warning
        var seen = new List<string>();
        GradCheck.Assert(
            v => [v[0] * 2],
            [x],
            new GradCheckOptions
            {
                Eps = 1e-2,
                Atol = 1e-2,
                Rtol = 1e-2,
            },
            seen.Add
        );
        Assert.Single(seen);
        Assert.Throws<GradCheckException>(() =>
            GradCheck.Assert(
                v => [v[0] * 2],
                [x],
                new GradCheckOptions
                {
                    Eps = 1e-2,
                    Atol = 1e-2,
                    Rtol = 1e-2,
                    WarningsAsErrors = true,
                }
            )
        );
    }
}
