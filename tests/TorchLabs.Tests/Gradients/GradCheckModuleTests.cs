using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>GradCheck.Module: each parameter's own dtype back after the check, and training mode with a fixed
/// seed.</summary>
public class GradCheckModuleTests
{
    /// <summary>A small MLP whose weights come from a seeded generator (no global generator).</summary>
    static nn.Module<Tensor, Tensor> Mlp(ulong seed, bool dropout)
    {
        var net = dropout
            ? nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Dropout(0.5), nn.Linear(5, 2))
            : nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2));
        using var gen = new Generator(seed);
        using (no_grad())
            foreach (var p in net.parameters())
                p.copy_(randn(p.shape, p.dtype, generator: gen) * 0.5);
        return net;
    }

    static Tensor Input(ulong seed)
    {
        using var gen = new Generator(seed);
        return randn([4, 3], ScalarType.Float32, generator: gen);
    }

    [Fact]
    public void EachLayer_GetsItsOwnDtypeBack()
    {
        using var scope = NewDisposeScope();
        var net = Mlp(1, dropout: false);
        var last = net.named_children().Last().module;
        last.to(ScalarType.Float16); // a float16 layer in a float32 model
        var r = GradCheck.Module(net, Input(2), y => y.to_type(ScalarType.Float64).pow(2).sum());
        Assert.True(r.Pass, r.Message);
        Assert.Equal(
            [ScalarType.Float32, ScalarType.Float32, ScalarType.Float16, ScalarType.Float16],
            net.parameters().Select(p => p.dtype)
        );
    }

    [Fact]
    public void TrainingMode_WithASeed_ChecksThroughDropout_AndLeavesTheGlobalGeneratorAsItWas()
    {
        using var scope = NewDisposeScope();
        var net = Mlp(3, dropout: true);
        net.eval();
        var state = get_rng_state();
        var training = GradCheck.Module(net, Input(4), y => y.pow(2).sum(), trainingSeed: 7);
        Assert.True(training.Pass, training.Message);
        Assert.Equal(state.data<byte>().ToArray(), get_rng_state().data<byte>().ToArray());
        Assert.False(net.training); // its mode back
        var eval = GradCheck.Module(net, Input(4), y => y.pow(2).sum());
        Assert.True(eval.Pass, eval.Message);
        // Dropout was on: the first layer's Jacobian differs from eval mode's (masked units, the rest scaled by 2).
        var first = training.Result.Blocks.Single(b => b.InputPosition == 1); // 0.weight (position 0 is the input)
        var firstEval = eval.Result.Blocks.Single(b => b.InputPosition == 1);
        Assert.NotEqual(
            firstEval.Numerical.Cast<double>().Select(v => Math.Round(v, 6)),
            first.Numerical.Cast<double>().Select(v => Math.Round(v, 6))
        );
    }
}
