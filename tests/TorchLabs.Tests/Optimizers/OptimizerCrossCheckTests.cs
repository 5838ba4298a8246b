using TorchLabs.Labs;
using TorchLabs.Optimizers;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Optimizers;

/// <summary>Hand optimizers vs TorchSharp's torch.optim vs the pure C# reference, in float64 (tolerance 1e-9
/// relative).</summary>
public class OptimizerCrossCheckTests
{
    const double Tolerance = 1e-9;

    /// <summary>Each optimizer with seed settings and with other hyper-parameters, from several starts.</summary>
    public static TheoryData<string, double, double, double, double, double, double, long> Cases()
    {
        var data = new TheoryData<string, double, double, double, double, double, double, long>();
        foreach (string name in OptimizerSpec.Names)
        {
            var s = OptimizerSpec.NotesDefaults(name);
            data.Add(name, s.Lr, s.Momentum, s.Alpha, s.Beta1, s.Beta2, 0, 1);
        }
        data.Add("gd", 0.3, 0, 0.99, 0.9, 0.999, 0.01, 2);
        data.Add("momentum", 0.05, 0.9, 0.99, 0.9, 0.999, 0, 3);
        data.Add("momentum", 0.01, 0.5, 0.99, 0.9, 0.999, 0.1, 4);
        data.Add("nesterov", 0.05, 0.9, 0.99, 0.9, 0.999, 0, 5);
        data.Add("nesterov", 0.2, 0.3, 0.99, 0.9, 0.999, 0.05, 6);
        data.Add("adagrad", 1.5, 0, 0.99, 0.9, 0.999, 0, 7);
        data.Add("adagrad", 0.01, 0, 0.99, 0.9, 0.999, 0.2, 8);
        data.Add("rmsprop", 0.1, 0, 0.99, 0.9, 0.999, 0, 9);
        data.Add("rmsprop", 0.001, 0, 0.5, 0.9, 0.999, 0.01, 10);
        data.Add("adam", 0.001, 0, 0.99, 0.9, 0.999, 0, 11);
        data.Add("adam", 0.5, 0, 0.99, 0.5, 0.9, 0.01, 12);
        data.Add("adam", 0.05, 0, 0.99, 0.0, 0.99, 0, 13);
        return data;
    }

    static OptimizerSpec Spec(string name, double lr, double mu, double alpha, double b1, double b2, double wd) =>
        new()
        {
            Name = name,
            Lr = lr,
            Momentum = mu,
            Alpha = alpha,
            Beta1 = b1,
            Beta2 = b2,
            WeightDecay = wd,
        };

    [Theory]
    [MemberData(nameof(Cases))]
    public void QuadraticF_HandAndReference_MatchTorchOptimEveryStep(
        string name,
        double lr,
        double mu,
        double alpha,
        double b1,
        double b2,
        double wd,
        long seed
    )
    {
        var spec = Spec(name, lr, mu, alpha, b1, b2, wd);
        double[] start = OptimizersLab.DrawStart(seed);
        var torchPath = OptimizersLab.Run(spec, OptimizerImpl.Torch, start, 300);
        var hand = OptimizersLab.Run(spec, OptimizerImpl.Hand, start, 300);
        var reference = OptimizersLab.Run(spec, OptimizerImpl.Reference, start, 300);
        Assert.Equal(301, hand.Points.Length);
        Assert.Equal(start, hand.Points[0]);
        Assert.InRange(OptimizersLab.MaxRelError(hand.Points, torchPath.Points), 0, Tolerance);
        Assert.InRange(OptimizersLab.MaxRelError(reference.Points, torchPath.Points), 0, Tolerance);
        Assert.NotEqual(start, hand.Points[^1]); // it moved
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    public void NesterovLookAhead_HandMatchesNotesFormReference(long seed)
    {
        var spec = OptimizerSpec.NotesDefaults("nesterov") with
        {
            NesterovForm = NesterovForm.LookAhead,
            Lr = 0.02,
            Momentum = 0.8,
        };
        double[] start = OptimizersLab.DrawStart(seed);
        var hand = OptimizersLab.Run(spec, OptimizerImpl.Hand, start, 200);
        var reference = OptimizersLab.Run(spec, OptimizerImpl.Reference, start, 200);
        Assert.InRange(OptimizersLab.MaxRelError(hand.Points, reference.Points), 0, Tolerance);
    }

    [Fact]
    public void NesterovForms_TorchParameterIsTheNotesLookAheadPoint()
    {
        var eq = OptimizersLab.CompareNesterovForms(OptimizersLab.DrawStart(3), 500);
        Assert.InRange(eq.MaxRelError, 0, Tolerance);
        // and the two forms' own iterates differ (the change of variables is not the identity)
        Assert.True(OptimizersLab.MaxRelError(eq.NotesPoints, eq.TorchPoints) > 1e-6);
    }

    [Fact]
    public void TorchImpl_NesterovLookAhead_IsUsageError()
    {
        var spec = OptimizerSpec.NotesDefaults("nesterov") with { NesterovForm = NesterovForm.LookAhead };
        Assert.Throws<UsageException>(() => OptimizersLab.Run(spec, OptimizerImpl.Torch, [1, 1], 3));
    }

    [Theory]
    [InlineData("sigmoid", 5)]
    [InlineData("relu", 6)]
    [InlineData("tanh", 7)]
    public void ReferenceMlp_GradientsAndFiftySteps_MatchAutogradAndTorchOptim(string activation, long seed)
    {
        var check = OptimizersLab.CheckMlp(seed, 50, activation);
        Assert.InRange(check.GradientRelError, 0, Tolerance);
        Assert.Equal(6, check.Steps.Count);
        Assert.All(check.Steps, s =>
        {
            Assert.InRange(s.HandVsTorch, 0, Tolerance);
            Assert.InRange(s.ReferenceVsTorch, 0, Tolerance);
        });
    }

    [Fact]
    public void HandAdamOnCifarNet_LossCurveMatchesTorchOptimInFloat32()
    {
        var proof = OptimizersLab.ProveOnCifarNet(seed: 2, steps: 20, batch: 8);
        Assert.InRange(proof.MaxRelDifference, 0, 1e-4);
        Assert.InRange(proof.MaxParamRelDifference, 0, 1e-4);
        Assert.True(proof.HandLoss[^1] < proof.HandLoss[0] + 0.5);
    }

    [Fact]
    public void ZeroGrad_ClearsGradients_AndStateIsInspectable()
    {
        using var p = new TorchSharp.Modules.Parameter(tensor(new double[] { 1, 2 }));
        using var opt = new Adam([p], 0.1);
        p.grad = tensor(new double[] { 0.5, -1 });
        opt.step();
        // Step 1: bias correction makes m̂ = g and v̂ = g², so each element moves by lr·g/(|g| + ε), lr against the
        // gradient's sign.
        Assert.Equal([0.9, 2.1], p.data<double>().ToArray(), (a, b) => Math.Abs(a - b) <= 1e-8);
        Assert.Equal(["exp_avg", "exp_avg_sq"], opt.StateOf(0).Keys.Order());
        Assert.Equal(0.05, opt.StateOf(0)["exp_avg"][0].item<double>(), 15); // (1 − β₁) g
        opt.zero_grad();
        Assert.Null(p.grad);
    }

    [Fact]
    public void LearningRate_ChangedBetweenSteps_IsUsed()
    {
        using var p = new TorchSharp.Modules.Parameter(tensor(new double[] { 1 }));
        using var opt = new Gd([p], 0.1);
        p.grad = tensor(new double[] { 2 });
        opt.step(); // 1 − 0.1·2 = 0.8
        opt.LearningRate = 0.01;
        p.grad = tensor(new double[] { 2 });
        opt.step(); // 0.8 − 0.01·2 = 0.78
        Assert.Equal(0.78, p.item<double>(), 15);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0)]
    [InlineData(-0.1)]
    public void Validate_BadLearningRate_IsUsageErrorNamingLr(double lr)
    {
        var e = Assert.Throws<UsageException>(() => (OptimizerSpec.NotesDefaults("adam") with { Lr = lr }).Validate());
        Assert.StartsWith("--lr", TestEnvironment.AsShown(e));
    }

    [Fact]
    public void NotesDefaults_UnknownOptimizer_IsUsageError() =>
        Assert.Throws<UsageException>(() => OptimizerSpec.NotesDefaults("lbfgs"));
}
