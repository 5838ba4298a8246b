using TorchLabs.Models;
using TorchLabs.Optimizers;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Optimizers;

/// <summary>The fast training step (flat-buffer SGD, scope-free functional forward) against torch.optim.SGD: the same numbers, bit for
/// bit.</summary>
public class FlatSgdTests
{
    static (float[] Losses, float[][] Parameters) Train(bool flat, int steps = 30, int batch = 4)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        var net = new CifarNet(gen);
        var data = Enumerable.Range(0, 8).Select(_ => (randn([batch, 3, 32, 32], generator: gen), randint(0, 10, [batch],
            generator: gen))).ToArray();
        var ps = net.parameters().ToList();
        using var fast = flat ? new FlatSgd(ps, 0.01, 0.9) : null;
        var torchSgd = flat ? null : optim.SGD(ps, 0.01, 0.9);
        var losses = new float[steps];
        for (int t = 0; t < steps; t++)
        {
            using var step = NewDisposeScope();
            if (flat) fast!.zero_grad(); else torchSgd!.zero_grad();
            var (x, y) = data[t % data.Length];
            var loss = nn.functional.cross_entropy(net.call(x), y);
            losses[t] = loss.item<float>();
            loss.backward();
            if (flat) fast!.step(); else torchSgd!.step();
        }
        return (losses, ps.Select(p => p.detach().contiguous().data<float>().ToArray()).ToArray());
    }

    [Fact]
    public void FlatSgd_EqualsTorchOptimSgd_BitForBit()
    {
        var (lt, pt) = Train(flat: false);
        var (lf, pf) = Train(flat: true);
        Assert.Equal(lt, lf);
        for (int i = 0; i < pt.Length; i++) Assert.Equal(pt[i], pf[i]);
        Assert.True(lt[24] < lt[0], $"the loss of batch 0 should fall when it comes round again: {lt[0]} then {lt[24]}");
    }

    [Fact]
    public void FlatSgd_ParametersAndGradientsAreViewsOfOneBuffer()
    {
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(1));
        var ps = net.parameters().ToList();
        using var opt = new FlatSgd(ps, 0.1, 0.5);
        nn.functional.cross_entropy(net.call(randn([2, 3, 32, 32], generator: new Generator(2))), tensor(new long[] { 1, 2 })).backward();
        Assert.All(ps, p => Assert.NotNull(p.grad));
        opt.zero_grad();                                                            // one op zeroes them all
        Assert.All(ps, p => Assert.Equal(0, p.grad!.abs().sum().item<float>()));
        Assert.Equal(CifarNet.ParameterCount, ps.Sum(p => p.numel()));
    }
}
