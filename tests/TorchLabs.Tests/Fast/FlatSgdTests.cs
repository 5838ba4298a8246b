using TorchLabs.Fast;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Fast;

/// <summary>The fast training step (flat-buffer SGD, scope-free functional forward) against torch.optim.SGD: the same
/// numbers, bit for bit.</summary>
public class FlatSgdTests
{
    static (float[] Losses, float[][] Parameters) Train(bool flat, int steps = 30, int batch = 4)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        var net = new CifarNet(gen);
        var data = Enumerable
            .Range(0, 8)
            .Select(_ => (randn([batch, 3, 32, 32], generator: gen), randint(0, 10, [batch], generator: gen)))
            .ToArray();
        var ps = net.parameters().ToList();
        using var fast = flat ? new FlatSgd(ps, 0.01, 0.9) : null;
        var torchSgd = flat ? null : optim.SGD(ps, 0.01, 0.9);
        var losses = new float[steps];
        for (int t = 0; t < steps; t++)
        {
            using var step = NewDisposeScope();
            if (flat)
                fast!.zero_grad();
            else
                torchSgd!.zero_grad();
            var (x, y) = data[t % data.Length];
            var loss = nn.functional.cross_entropy(net.call(x), y);
            losses[t] = loss.item<float>();
            loss.backward();
            if (flat)
                fast!.step();
            else
                torchSgd!.step();
        }
        return (losses, ps.Select(p => p.detach().contiguous().data<float>().ToArray()).ToArray());
    }

    [Fact]
    public void FlatSgd_EqualsTorchOptimSgd_BitForBit()
    {
        var (lt, pt) = Train(flat: false);
        var (lf, pf) = Train(flat: true);
        Assert.Equal(lt, lf);
        for (int i = 0; i < pt.Length; i++)
            Assert.Equal(pt[i], pf[i]);
        Assert.True(
            lt[24] < lt[0],
            $"the loss of batch 0 should fall when it comes round again: {lt[0]} then {lt[24]}"
        );
    }

    [Fact]
    public void FlatSgd_ParametersAndGradientsAreViewsOfOneBuffer()
    {
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(1));
        var ps = net.parameters().ToList();
        using var opt = new FlatSgd(ps, 0.1, 0.5);
        nn.functional.cross_entropy(
                net.call(randn([2, 3, 32, 32], generator: new Generator(2))),
                tensor(new long[] { 1, 2 })
            )
            .backward();
        Assert.All(ps, p => Assert.NotNull(p.grad));
        opt.zero_grad(); // one op zeroes them all
        Assert.All(ps, p => Assert.Equal(0, p.grad!.abs().sum().item<float>()));
        Assert.Equal(CifarNet.ParameterCount, ps.Sum(p => p.numel()));
    }

    /// <summary>Floats of every kind the update meets: zeros of both signs, the smallest subnormals (μ times them
    /// rounds back to themselves), larger subnormals, numbers either side of 2^−126, ordinary and large ones,
    /// infinities.</summary>
    static float Draw(Random r)
    {
        float m = r.Next(9) switch
        {
            0 => 0f,
            1 => BitConverter.UInt32BitsToSingle((uint)r.Next(1, 6)),
            2 => BitConverter.UInt32BitsToSingle((uint)r.Next(1, 0x0080_0000)),
            3 => BitConverter.UInt32BitsToSingle((uint)r.Next(0x0070_0000, 0x0110_0000)),
            4 => (float)Math.ScaleB(r.NextDouble() + 0.5, r.Next(-125, -100)),
            5 => (float)r.NextDouble() * 1e-3f,
            6 => (float)r.NextDouble(),
            7 => (float)Math.ScaleB(r.NextDouble() + 0.5, r.Next(0, 60)),
            _ => r.Next(20) == 0 ? float.PositiveInfinity : (float)r.NextDouble() * 0.1f,
        };
        return r.Next(2) == 0 ? m : -m;
    }

    /// <summary>The bits of each float: bit for bit tells −0 from +0, which float equality does not.</summary>
    static uint[] Bits(float[] x) => x.Select(BitConverter.SingleToUInt32Bits).ToArray();

    [SkippableTheory]
    [InlineData(0.9f, -0.001f)]
    [InlineData(0.99f, -0.1f)]
    [InlineData(0.5f, -1f)]
    [InlineData(0f, -0.01f)]
    [InlineData(1.5f, -3f)]
    [InlineData(0.9f, -1e-30f)]
    public void Update_RoundsEveryKindOfFloat_AsLibtorchsMulAddAndAddAlpha(float μ, float a)
    {
        Skip.IfNot(
            System.Runtime.Intrinsics.X86.Fma.IsSupported,
            "the one-pass update needs AVX2 and FMA; without them FlatSgd " + "steps with libtorch's three ops"
        );
        using var scope = NewDisposeScope();
        var r = new Random(7);
        const int n = 4099; // not a multiple of 8: the scalar tail too
        float[] θ = new float[n],
            g = new float[n],
            b = new float[n];
        for (int i = 0; i < n; i++)
            (θ[i], g[i], b[i]) = (Draw(r), Draw(r), Draw(r));
        for (int i = 0; i < n; i += 5)
            g[i] = -b[i] * μ; // μ b + g cancelling to 0 or a subnormal
        for (int i = 0; i + 8 <= n; i += 24) // a dead unit's eight: g ±0, b small, θ mostly ordinary
        for (int j = i; j < i + 8; j++)
            (g[j], b[j], θ[j]) = (
                r.Next(2) == 0 ? 0f : -0f,
                j % 3 == 0
                    ? Draw(r)
                    : BitConverter.UInt32BitsToSingle(
                        (uint)r.Next(0, 0x0120_0000) | (r.Next(2) == 0 ? 0 : 0x8000_0000u)
                    ),
                r.Next(16) == 0 ? Draw(r) : θ[j]
            );
        var (θt, gt, bt) = (tensor(θ), tensor(g), tensor(b));
        using (no_grad())
        {
            bt.mul_(μ).add_(gt);
            θt.add_(bt, a);
        } // torch.optim.SGD's three ops
        FlatSgd.Update(θ, g, b, μ, a);
        Assert.Equal(Bits(bt.data<float>().ToArray()), Bits(b));
        Assert.Equal(Bits(θt.data<float>().ToArray()), Bits(θ));
        Assert.Contains(b, float.IsSubnormal);
    }

    [Fact]
    public void FlatSgd_EqualsTorchOptimSgd_BitForBit_WhenMomentumBuffersDecayToSubnormals()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(5);
        var flat = new TorchSharp.Modules.Parameter(randn(2000, generator: gen));
        var reference = new TorchSharp.Modules.Parameter(flat.detach().clone());
        using var fused = new FlatSgd([flat], 0.01, 0.9);
        var sgd = optim.SGD([reference], 0.01, 0.9);
        // the other units' gradient is 0 after the first step, as a dead ReLU's
        var live = rand(2000, generator: gen) < 0.3;
        var b = zeros(2000); // the momentum buffer, b = μ b + g, kept here to see that the run reaches subnormal values
        for (int t = 0; t < 1000; t++)
        {
            using var step = NewDisposeScope();
            var grad = randn(2000, generator: gen) * (t == 0 ? 1.0 : 1e-3);
            if (t > 0)
                grad = grad * live;
            fused.zero_grad();
            flat.grad!.copy_(grad);
            reference.grad = grad.clone();
            fused.step();
            sgd.step();
            b.mul_(0.9).add_(grad);
        }
        Assert.Equal(Bits(reference.data<float>().ToArray()), Bits(flat.data<float>().ToArray()));
        int subnormal = b.data<float>().ToArray().Count(float.IsSubnormal);
        Assert.True(subnormal > 500, $"the test should reach subnormal momentum buffers: {subnormal} of 2000");
    }
}
