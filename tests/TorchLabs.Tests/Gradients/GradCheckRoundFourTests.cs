using System.Numerics;
using TorchLabs.Gradients;
using static TorchLabs.Tests.Gradients.Leaves;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// The defects of GradCheck's fourth audit, each a test that failed before: a crash, a false pass, verdicts and
/// messages that differed from PyTorch 1.13's, kinks misjudged, and options out of range.
/// </summary>
public class GradCheckRoundFourTests
{
    static Tensor MisalignedComplexLeaf()
    {
        // torch.tensor(Complex[]) keeps the .NET array as the tensor's memory: 8-byte aligned, 16 only by chance.
        // Arrays are made (and kept) until one lands off a 16-byte boundary.
        var keep = new List<object>();
        for (int i = 0; i < 64; i++)
        {
            var t = tensor(new Complex[] { new(0.3, 0.7), new(-1.1, 0.2), new(0.5, -0.4) }, ScalarType.ComplexFloat64);
            using (var scope = NewDisposeScope())
                if (t.storage<Complex>().data_ptr().ToInt64() % 16 != 0)
                    return t.requires_grad_(true);
            keep.Add(t);
            keep.Add(new byte[8 + i % 3 * 8]);
        }
        throw new InvalidOperationException("no misaligned array in 64 tries");
    }

    [Fact]
    public void ComplexInputInMisalignedDotNetMemory_IsCheckedOnAnAlignedCopy_NotACrash()
    {
        var z = MisalignedComplexLeaf();
        var r = GradCheck.Check(v => [v[0] * v[0]], [z]); // before: segmentation fault in libtorch's complex mul kernel
        Assert.True(r.Pass, r.Message);
        Assert.Contains(r.Warnings, w => w.Contains("aligned to 8 bytes"));
        Assert.True(GradCheck.GradGradCheck(v => [v[0] * v[0]], [MisalignedComplexLeaf()]).Pass);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ComplexOutputWithoutAGraph_Fails_AsInPyTorch(bool fast)
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(
            v => [complex(v[0], v[0]).detach()],
            [Leaf(1, 3)],
            new GradCheckOptions { FastMode = fast }
        );
        Assert.False(r.Pass); // before: passed; the complex output was never measured
        Assert.StartsWith("Numerical gradient for function expected to be zero", r.Failures[0]);
    }

    [Fact]
    public void SameTensorReturnedTwice_Passes()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(
            v =>
            {
                var y = v[0].sin();
                return [y, y];
            },
            [Leaf(2, 3)]
        );
        Assert.True(r.Pass, r.Message); // before: "Tensor invalid -- empty handle" (the output disposed twice)
    }

    /// <summary>A backward that cannot handle an undefined grad_output: with materialize_grads off it receives one when
    /// every output's gradient is undefined, and answers with a gradient of the wrong shape (an exception thrown in a
    /// C# backward would end the process, so the failure is one libtorch raises).</summary>
    public sealed class SinFailsOnUndefinedGrad : SingleTensorFunction<SinFailsOnUndefinedGrad>
    {
        public override string Name => nameof(SinFailsOnUndefinedGrad);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.set_materialize_grads(false);
            ctx.save_for_backward([x]);
            return x.sin();
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor g)
        {
            var x = ctx.get_saved_variables()[0];
            return [g.IsInvalid ? ones(x.numel() + 1, dtype: x.dtype) : g * x.cos()];
        }
    }

    [Fact]
    public void BackwardFailingWhenEveryOutputGradIsUndefined_Fails_AsInPyTorch()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(v => [SinFailsOnUndefinedGrad.apply(v[0])], [Leaf(3, 3)]);
        // before: passed (only one output at a time was left undefined, and only with two outputs)
        Assert.False(r.Pass);
        Assert.StartsWith("Expected backward function to handle undefined output grads", r.Failures[0]);
        Assert.True(
            GradCheck
                .Check(
                    v => [SinFailsOnUndefinedGrad.apply(v[0])],
                    [Leaf(3, 3)],
                    new GradCheckOptions { CheckUndefinedGrad = false }
                )
                .Pass
        );
    }

    [Fact]
    public void NaNInTheAnalyticalJacobian_IsAJacobianMismatch_NotReentrancy()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 0.0, 1.0 }).requires_grad_(true);
        var r = GradCheck.Check(v => [v[0].sqrt()], [x]);
        Assert.False(r.Pass);
        // before: "not reentrant"
        Assert.StartsWith("Jacobian mismatch for output 0 with respect to input 0", r.Failures[0]);
        Assert.DoesNotContain(r.Failures, f => f.StartsWith("Backward is not reentrant"));
        var big = tensor(new[] { 1000.0, 1, 2 }).requires_grad_(true); // e^1000 = ∞: ∞ − ∞ in the drift
        Assert.DoesNotContain(GradCheck.Check(v => [v[0].exp()], [big]).Failures, f =>
            f.StartsWith("Backward is not reentrant")
        );
    }

    [Fact]
    public void FastMode_ReportsReentrancyBeforeTheMismatch_AsPyTorch()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(
            v => [WrongBackwards.NoisySin.apply(v[0]) + SuiteFunctions.SinScaled.apply(v[0])],
            [Leaf(4, 3)],
            new GradCheckOptions { FastMode = true }
        );
        Assert.False(r.Pass);
        Assert.StartsWith("Backward is not reentrant", r.Failures[0]);
        Assert.Contains(r.Failures, f => f.StartsWith("Jacobian mismatch"));
    }

    [Fact]
    public void CheckBatchedGrad_IsAccepted_AndSaysWhatItDoesHere()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(v => [v[0].sin()], [Leaf(5, 3)], new GradCheckOptions { CheckBatchedGrad = true });
        Assert.True(r.Pass);
        Assert.Contains(r.Warnings, w => w.StartsWith("check_batched_grad: TorchSharp has no vmap"));
    }

    [Fact]
    public void ForwardThatChangesItsInput_IsNamedAsTheFunction_NotBackward()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(
            v =>
            {
                var y = v[0].sin();
                using (no_grad())
                    v[0].mul_(1.0 + 1e-3);
                return [y];
            },
            [Leaf(6, 3)]
        );
        Assert.False(r.Pass);
        Assert.StartsWith("The function modified input 0", r.Failures[0]); // before: "Backward modified input 0"
    }

    [Fact]
    public void RoundingNoise_IsNotAKink_AndSaysSo()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(v => [v[0] * v[0] + 1e8], [Leaf(7, 3)]);
        Assert.False(r.Pass); // PyTorch fails it too
        Assert.Empty(r.Mismatches.SelectMany(b => b.Kinks)); // before: "not differentiable"
        Assert.Contains(r.Mismatches.SelectMany(b => b.Notes), n => n.Contains("rounding noise"));
    }

    [Fact]
    public void CurvatureAtTheStep_IsNotAKink_AndSaysSo()
    {
        using var scope = NewDisposeScope();
        var r = GradCheck.Check(v => [(v[0] * 1.2e6).sin()], [Leaf(8, 3)]);
        Assert.False(r.Pass);
        Assert.Empty(r.Mismatches.SelectMany(b => b.Kinks)); // before: "not differentiable"
        Assert.Contains(r.Mismatches.SelectMany(b => b.Notes), n => n.Contains("the step is too long"));
    }

    /// <summary>A step at 0 with a backward of 1000 there: no derivative exists.</summary>
    public sealed class StepWithBackward : SingleTensorFunction<StepWithBackward>
    {
        public override string Name => nameof(StepWithBackward);

        public override Tensor forward(AutogradContext ctx, params object[] vars) =>
            ((Tensor)vars[0] > 0).to_type(ScalarType.Float64);

        public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [g * 1000];
    }

    [Fact]
    public void AJump_IsNotContinuous_NotAKink()
    {
        using var scope = NewDisposeScope();
        var x = zeros(1, ScalarType.Float64).requires_grad_(true);
        var r = GradCheck.Check(v => [StepWithBackward.apply(v[0])], [x]);
        Assert.False(r.OnlyKinks); // before: a kink (one-sided quotients 1e6 and 0)
        Assert.Contains(r.Mismatches.SelectMany(b => b.Notes), n => n.Contains("not continuous here"));
        Assert.False(
            GradCheck
                .Search(
                    v => [StepWithBackward.apply(v[0])],
                    [
                        [1],
                    ],
                    new SearchOptions { Trials = 3 }
                )
                .Pass
        );
    }

    [Theory]
    [InlineData("Eps", 0.0)]
    [InlineData("Eps", double.NaN)]
    [InlineData("Eps", double.PositiveInfinity)]
    [InlineData("Atol", -1.0)]
    [InlineData("NondetTol", double.NaN)]
    [InlineData("MaxPrinted", 0.0)]
    [InlineData("MaxPrinted", -1.0)]
    public void OptionOutOfRange_IsRefusedByName(string name, double value)
    {
        using var scope = NewDisposeScope();
        var o = name switch
        {
            "Eps" => new GradCheckOptions { Eps = value },
            "Atol" => new GradCheckOptions { Atol = value },
            "NondetTol" => new GradCheckOptions { NondetTol = value },
            _ => new GradCheckOptions { MaxPrinted = (int)value },
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GradCheck.Check(v => [v[0].sin()], [Leaf(9, 2)], o));
        Assert.Contains($"GradCheckOptions.{name}", e.Message);
    }
}
