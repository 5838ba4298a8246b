using TorchLabs.Optimizers;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Optimizers;

/// <summary>Every hyper-parameter of AdaGrad and RMSProp is checked when the optimizer is made, as torch.optim checks
/// them: a value outside its range is an ArgumentOutOfRangeException that names the parameter.</summary>
public class OptimizerRangeTests
{
    static Tensor[] Parameters() => [zeros(2, ScalarType.Float64).requires_grad_(true)];

    public static TheoryData<string, double> AdaGradCases() =>
        new()
        {
            { "eps", -1e-10 },
            { "eps", double.NaN },
            { "lrDecay", -0.1 },
            { "lrDecay", double.PositiveInfinity },
            { "initialAccumulatorValue", -1 },
        };

    [Theory]
    [MemberData(nameof(AdaGradCases))]
    public void AdaGrad_RefusesAValueOutsideItsRange(string name, double bad)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new AdaGrad(
                Parameters(),
                lrDecay: name == "lrDecay" ? bad : 0,
                initialAccumulatorValue: name == "initialAccumulatorValue" ? bad : 0,
                eps: name == "eps" ? bad : 1e-10
            )
        );
        Assert.Equal(name, e.ParamName);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void RmsProp_RefusesAMomentumOutsideZeroToOne(double bad)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(Parameters(), momentum: bad));
        Assert.Equal("momentum", e.ParamName);
    }

    [Fact]
    public void Defaults_AreAccepted()
    {
        using var adagrad = new AdaGrad(Parameters());
        using var rmsprop = new RmsProp(Parameters(), momentum: 0.9);
        Assert.Equal(1e-10, adagrad.Eps);
        Assert.Equal(0.9, rmsprop.Mu);
    }
}
