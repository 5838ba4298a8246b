using TorchLabs.Fast;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Fast;

/// <summary>
/// The 5×5 convolution loops against libtorch's conv2d and its autograd in float64: the output, ∂L/∂W and ∂L/∂b within
/// float32 rounding (<see cref="ClassifierHeadTests.Close"/>), for the Net's conv1 and for sizes that reach the loops'
/// edges (a short channel group, an odd channel count, rows not a multiple of 8 or 16, one example); gradients are
/// added to what is there.
/// </summary>
public class ConvKernelsTests
{
    static float[] Floats(Tensor t) => t.contiguous().data<float>().ToArray();

    public static TheoryData<int, int, int, int, int> Sizes() =>
        new()
        {
            { 4, 3, 32, 32, 6 },
            { 1, 3, 32, 32, 6 },
            { 2, 1, 20, 20, 1 },
            { 3, 2, 21, 29, 7 },
            { 2, 4, 9, 24, 3 },
            { 5, 3, 24, 28, 12 },
        };

    [SkippableTheory]
    [MemberData(nameof(Sizes))]
    public void ForwardAndGradients_WithinFloat32RoundingOfFloat64Libtorch(int N, int C, int H, int W, int O)
    {
        Skip.IfNot(
            System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported,
            "the conv1 loops need AVX2 and FMA; without them the fast step uses libtorch's convolution"
        );
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)(N * 100 + C * 10 + O));
        var x = randn([N, C, H, W], generator: gen);
        var weight = randn([O, C, 5, 5], generator: gen) * 0.2;
        var bias = randn([O], generator: gen) * 0.1;
        int Ho = H - 4,
            Wo = W - 4;
        var delta = randn([N, O, Ho, Wo], generator: gen);

        var u = new float[N * O * Ho * Wo];
        ConvKernels.Forward(Floats(x), Floats(weight), Floats(bias), u, new(N, C, H, W, O));
        var w64 = weight.to(ScalarType.Float64).requires_grad_(true);
        var b64 = bias.to(ScalarType.Float64).requires_grad_(true);
        var exact = nn.functional.conv2d(x.to(ScalarType.Float64), w64, b64);
        ClassifierHeadTests.Close(exact.detach(), tensor(u).view(exact.shape), "u = conv(x, W) + b");

        exact.backward([delta.to(ScalarType.Float64)]);
        float[] dW = [.. Enumerable.Repeat(0.5f, O * C * 25)],
            db = [.. Enumerable.Repeat(-0.25f, O)]; // gradients are added to these
        ConvKernels.WeightGradient(Floats(delta), Floats(x), dW, db, new(N, C, H, W, O));
        ClassifierHeadTests.Close(w64.grad! + 0.5, tensor(dW).view(weight.shape), "∂L/∂W (+ 0.5 already there)");
        ClassifierHeadTests.Close(b64.grad! - 0.25, tensor(db), "∂L/∂b (− 0.25 already there)");
    }

    [Fact]
    public void SizesThatDoNotMatch_AreRefused()
    {
        Assert.False(ConvKernels.Fits(32, 19)); // rows of 15 outputs: under the sixteen-wide block
        Assert.True(ConvKernels.Fits(32, 20));
        var e = Assert.Throws<ArgumentException>(() =>
            ConvKernels.Forward(new float[10], new float[150], new float[2], new float[5], new(1, 3, 32, 32, 2))
        );
        Assert.Equal("convolution sizes do not match", e.Message);
    }
}
