using TorchLabs.Fast;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Fast;

/// <summary>
/// The fused ReLU + 2×2 max-pool against libtorch's relu then max_pool2d (the tutorial's order): forward values and
/// input gradients equal bit for bit in float32, on every path of the kernel (8-wide, 4-wide, scalar, overlapping last
/// block, odd sizes), with ties, zeros and NaN; and the Net trained with it follows the tutorial's module forward bit
/// for bit. (float64 gradcheck and gradgradcheck: the catalogue case in <see cref="Gradients.HandFunctionTests"/>.)
/// </summary>
public class ReluMaxPoolTests
{
    static (float[] A, float[] Grad) Run(Func<Tensor, Tensor> f, Tensor u, Tensor g)
    {
        var leaf = u.detach().clone().requires_grad_(true);
        var a = f(leaf);
        a.backward([g]);
        return (a.detach().contiguous().data<float>().ToArray(), leaf.grad!.contiguous().data<float>().ToArray());
    }

    public static TheoryData<long[], string> Shapes() =>
        new()
        {
            { [4, 6, 28, 28], "randn" },
            { [4, 16, 10, 10], "randn" },
            { [4, 6, 28, 28], "ties" },
            { [4, 16, 10, 10], "ties" },
            { [2, 3, 7, 9], "ties" },
            { [3, 2, 6, 16], "randn" },
            { [2, 2, 8, 6], "ties" },
            { [1, 1, 2, 2], "randn" },
            { [2, 5, 12, 40], "nan" },
            { [2, 5, 9, 11], "nan" },
            { [1, 3, 33, 35], "ties" },
        };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_EqualsReluThenMaxPool_BitForBit(long[] shape, string kind)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(11);
        var u =
            kind == "ties"
                ? randint(-2, 3, shape, generator: gen).to(ScalarType.Float32) // many equal values and zeros
                : randn(shape, generator: gen);
        if (kind == "nan")
            u.view(-1).index_put_(float.NaN, randint(0, u.numel(), [u.numel() / 20], generator: gen));
        var g = randn([shape[0], shape[1], shape[2] / 2, shape[3] / 2], generator: gen);
        var (aRef, gRef) = Run(ReluMaxPoolFunction.Reference, u, g);
        var (aHand, gHand) = Run(ReluMaxPoolFunction.Apply, u, g);
        Assert.Equal(aRef, aHand);
        Assert.Equal(gRef, gHand);
        if (kind == "nan")
            Assert.Contains(aHand, float.IsNaN);
    }

    [Fact]
    public void NotContiguousOrUnderNoGrad_SameValues()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(12);
        var u = randn([2, 3, 10, 12], generator: gen).transpose(2, 3); // a strided view
        using var _ = no_grad();
        Assert.Equal(
            ReluMaxPoolFunction.Reference(u).contiguous().data<float>().ToArray(),
            ReluMaxPoolFunction.Apply(u).contiguous().data<float>().ToArray()
        );
    }

    [Fact]
    public void CifarNet_ForwardAndTraining_EqualTheTutorialModules_BitForBit()
    {
        using var scope = NewDisposeScope();
        float[][] Train(bool fused)
        {
            using var gen = new Generator(3);
            var net = new CifarNet(gen);
            var ps = net.parameters().ToList();
            using var opt = new FlatSgd(ps, 0.01, 0.9);
            var losses = new List<float>();
            for (int t = 0; t < 12; t++)
            {
                using var step = NewDisposeScope();
                var x = randn([4, 3, 32, 32], generator: gen);
                var y = randint(0, 10, [4], generator: gen);
                opt.zero_grad();
                var loss = nn.functional.cross_entropy(fused ? FusedForward(net, x) : net.call(x), y);
                losses.Add(loss.item<float>());
                loss.backward();
                opt.step();
            }
            return
            [
                [.. losses],
                .. ps.Select(p => p.detach().contiguous().data<float>().ToArray()),
            ];
        }
        var tutorial = Train(fused: false);
        var fused = Train(fused: true);
        for (int i = 0; i < tutorial.Length; i++)
            Assert.Equal(tutorial[i], fused[i]);
    }

    /// <summary>The tutorial's forward with each convolution's ReLU and 2×2 max-pool as one <see
    /// cref="ReluMaxPoolFunction"/>.</summary>
    static Tensor FusedForward(CifarNet net, Tensor x)
    {
        var (conv1, conv2, fc1, fc2, fc3) = net.Layers;
        var h = ReluMaxPoolFunction.Apply(conv1.call(x));
        h = ReluMaxPoolFunction.Apply(conv2.call(h)).flatten(1);
        h = nn.functional.relu(fc1.call(h));
        h = nn.functional.relu(fc2.call(h));
        return fc3.call(h);
    }
}
