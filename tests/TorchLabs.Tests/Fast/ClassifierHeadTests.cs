using TorchLabs.Fast;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Fast;

/// <summary>
/// The hand head (fc1, ReLU, fc2, ReLU, fc3, cross-entropy) and the Net's hand step against float64 autograd on
/// libtorch's own ops. The float32 loops add in another order than libtorch, so the oracle is the float64 value of the
/// same float32 inputs, and the tolerance is float32 rounding of the longest sum: |hand − exact| ≤ 1e-5 · max|exact|
/// per tensor (float32's ε is 6e-8; a dot product of 400 terms can lose 400 ε of its terms' magnitude). libtorch's own
/// float32 result meets the same bound (checked alongside, so the bound is not loose for one of them only). The float64
/// Function and its second derivatives are the hand-Function catalogue's case (<see
/// cref="Gradients.HandFunctionTests"/>).
/// </summary>
public class ClassifierHeadTests
{
    internal const double Float32Rounding = 1e-5;

    /// <summary>|hand − exact| ≤ <see cref="Float32Rounding"/> · max|exact| (exact: float64).</summary>
    internal static void Close(Tensor exact, Tensor hand, string what)
    {
        double scale = exact.abs().max().item<double>();
        double diff = (hand.to(ScalarType.Float64) - exact).abs().max().item<double>();
        Assert.True(
            diff <= Float32Rounding * scale + 1e-30,
            $"{what}: max |hand − exact| {diff:E3} against max |exact| {scale:E3}"
        );
    }

    static Tensor[] Inputs(Generator gen, int N, int I, int O1, int O2, int C) =>
        [
            randn([N, I], generator: gen),
            randn([O1, I], generator: gen) / Math.Sqrt(I),
            randn([O1], generator: gen) * 0.1,
            randn([O2, O1], generator: gen) / Math.Sqrt(O1),
            randn([O2], generator: gen) * 0.1,
            randn([C, O2], generator: gen) / Math.Sqrt(O2),
            randn([C], generator: gen) * 0.1,
        ];

    static (Tensor Loss, Tensor[] Grads) LossAndGradients(Tensor[] inputs, Tensor y, bool hand, ScalarType type)
    {
        var leaves = inputs.Select(t => t.detach().to(type).requires_grad_(true)).ToArray();
        var loss = hand
            ? ClassifierHeadFunction.Apply(
                leaves[0],
                leaves[1],
                leaves[2],
                leaves[3],
                leaves[4],
                leaves[5],
                leaves[6],
                y
            )
            : ClassifierHeadFunction.Reference(
                leaves[0],
                leaves[1],
                leaves[2],
                leaves[3],
                leaves[4],
                leaves[5],
                leaves[6],
                y
            );
        loss.backward();
        return (loss.detach(), leaves.Select(l => l.grad!).ToArray());
    }

    /// <summary>The Net's sizes, and sizes that reach every edge of the loops: short row blocks, odd output counts,
    /// sums not a multiple of 8, rows under 16.</summary>
    public static TheoryData<int, int, int, int, int> Sizes() =>
        new()
        {
            { 4, 400, 120, 84, 10 },
            { 1, 400, 120, 84, 10 },
            { 7, 400, 120, 84, 10 },
            { 3, 37, 9, 17, 5 },
            { 5, 16, 16, 16, 2 },
            { 2, 8, 3, 1, 3 },
            { 6, 23, 31, 15, 7 },
        };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Float32_LossAndEveryGradient_WithinFloat32RoundingOfFloat64Autograd(int N, int I, int O1, int O2, int C)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)(N * 1000 + I));
        var inputs = Inputs(gen, N, I, O1, O2, C);
        var y = randint(0, C, [N], generator: gen);
        var (exactLoss, exact) = LossAndGradients(inputs, y, hand: false, ScalarType.Float64);
        var (handLoss, hand) = LossAndGradients(inputs, y, hand: true, ScalarType.Float32);
        var (torchLoss, torch32) = LossAndGradients(inputs, y, hand: false, ScalarType.Float32);
        Close(exactLoss, handLoss, "L");
        Close(exactLoss, torchLoss, "L (libtorch float32)");
        string[] names = ["∂L/∂h", "∂L/∂W₁", "∂L/∂b₁", "∂L/∂W₂", "∂L/∂b₂", "∂L/∂W₃", "∂L/∂b₃"];
        for (int k = 0; k < exact.Length; k++)
        {
            Close(exact[k], hand[k], names[k]);
            Close(exact[k], torch32[k], names[k] + " (libtorch float32)");
        }
    }

    [Fact]
    public void UpstreamGradient_ScalesEveryGradient_AndARetainedGraphGivesThemAgain()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(4);
        var inputs = Inputs(gen, 4, 40, 12, 8, 10).Select(t => t.requires_grad_(true)).ToArray();
        var y = randint(0, 10, [4], generator: gen);
        var loss = ClassifierHeadFunction.Apply(
            inputs[0],
            inputs[1],
            inputs[2],
            inputs[3],
            inputs[4],
            inputs[5],
            inputs[6],
            y
        );
        (3 * loss).backward(retain_graph: true);
        var (_, exact) = LossAndGradients(inputs, y, hand: false, ScalarType.Float64);
        for (int k = 0; k < exact.Length; k++)
            Close(3 * exact[k], inputs[k].grad!, $"input {k}");
        loss.backward(); // the retained graph again: 3 + 1 times the gradients
        for (int k = 0; k < exact.Length; k++)
            Close(4 * exact[k], inputs[k].grad!, $"input {k}, second backward");
    }

    [Fact]
    public void BadLabelsOrSizes_ClearErrors()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(5);
        var t = Inputs(gen, 2, 16, 8, 8, 3);
        var e = Assert.Throws<ArgumentException>(() =>
            ClassifierHeadFunction.Apply(t[0], t[1], t[2], t[3], t[4], t[5], t[6], tensor(new long[] { 1, 3 }))
        );
        Assert.Equal("label 3 is outside the 3 classes [0, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            ClassifierHeadFunction.Apply(randn(2, 15), t[1], t[2], t[3], t[4], t[5], t[6], tensor(new long[] { 1, 2 }))
        );
        Assert.StartsWith("the head's sizes do not chain: features 15 per example against fc1's 16 inputs", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            ClassifierHeadFunction.Apply(t[0], t[1], t[2], t[3], t[4], t[5], t[6], tensor(new long[] { 1, 2, 0 }))
        );
        Assert.Contains("int64 labels [N]", e.Message);
    }

    static Tensor[] Gradients(CifarNet net) => net.parameters().Select(p => p.grad!.detach().clone()).ToArray();

    [Fact]
    public void FastStep_LossAndGradients_WithinFloat32RoundingOfFloat64Autograd()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(7);
        var net = new CifarNet(gen);
        var x = randn([4, 3, 32, 32], generator: gen);
        var y = randint(0, 10, [4], generator: gen);
        float hand = new CifarNetFastStep(net).LossBackward(x, y);
        var handGrads = Gradients(net);
        net.zero_grad();
        var exactLoss = nn.functional.cross_entropy(net.to(ScalarType.Float64).forward(x.to(ScalarType.Float64)), y);
        exactLoss.backward();
        var exact = Gradients(net);
        Close(exactLoss.detach(), tensor(hand), "L");
        string[] names =
        [
            "conv1.weight",
            "conv1.bias",
            "conv2.weight",
            "conv2.bias",
            "fc1.weight",
            "fc1.bias",
            "fc2.weight",
            "fc2.bias",
            "fc3.weight",
            "fc3.bias",
        ];
        for (int k = 0; k < exact.Length; k++)
            Close(exact[k], handGrads[k], names[k]);
    }

    [Fact]
    public void FastStep_AddsToTheGradients_AsBackwardDoes()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(8);
        var net = new CifarNet(gen);
        var x = randn([3, 3, 32, 32], generator: gen);
        var y = randint(0, 10, [3], generator: gen);
        // no .grad yet: made, as the first backward makes them
        float first = new CifarNetFastStep(net).LossBackward(x, y);
        var once = Gradients(net);
        float second = new CifarNetFastStep(net).LossBackward(x, y);
        Assert.Equal(first, second);
        var twice = Gradients(net);
        for (int k = 0; k < once.Length; k++) // g + g = 2g exactly in floating point
            Assert.Equal((2 * once[k]).data<float>().ToArray(), twice[k].data<float>().ToArray());
    }

    [Fact]
    public void FastStep_Float64_IsAutogradsBackward()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(9);
        var net = new CifarNet(gen);
        net.to(ScalarType.Float64);
        var x = randn([2, 3, 32, 32], ScalarType.Float64, generator: gen);
        var y = randint(0, 10, [2], generator: gen);
        double hand = new CifarNetFastStep(net).LossBackward(x, y); // float64: the loops do not apply
        var handGrads = Gradients(net);
        net.zero_grad();
        var loss = nn.functional.cross_entropy(net.forward(x), y);
        loss.backward();
        Assert.Equal(loss.item<double>(), hand, 6); // the step returns a float
        var exact = Gradients(net);
        for (int k = 0; k < exact.Length; k++)
            Assert.True((exact[k] - handGrads[k]).abs().max().item<double>() <= 1e-12, $"parameter {k}");
    }

    [Fact]
    public void FastStep_TrainsAsTheTutorialsAutogradStep()
    {
        using var scope = NewDisposeScope();
        (float[] Losses, Tensor[] Parameters) Train(bool hand)
        {
            using var gen = new Generator(3);
            var net = new CifarNet(gen);
            var ps = net.parameters().ToList();
            using var opt = new FlatSgd(ps, 0.01, 0.9);
            var torchSgd = hand ? null : optim.SGD(ps, 0.01, 0.9);
            var fast = hand ? new CifarNetFastStep(net) : null;
            var losses = new float[40];
            for (int t = 0; t < losses.Length; t++)
            {
                using var step = NewDisposeScope();
                var x = randn([4, 3, 32, 32], generator: gen);
                var y = randint(0, 10, [4], generator: gen);
                if (hand)
                {
                    opt.zero_grad();
                    losses[t] = fast!.LossBackward(x, y);
                    opt.step();
                }
                else
                {
                    torchSgd!.zero_grad();
                    var loss = nn.functional.cross_entropy(net.forward(x), y);
                    losses[t] = loss.item<float>();
                    loss.backward();
                    torchSgd.step();
                }
            }
            return (losses, ps.Select(p => p.detach().clone()).ToArray());
        }
        var (lt, pt) = Train(hand: false);
        var (lh, ph) = Train(hand: true);
        // 40 steps of float32 rounding differences, carried along by the updates: the curves agree to 1e-5 relative.
        for (int t = 0; t < lt.Length; t++)
            Assert.True(
                Math.Abs(lt[t] - lh[t]) <= 1e-5 * Math.Abs(lt[t]),
                $"step {t}: torch.optim + autograd {lt[t]}, hand step {lh[t]}"
            );
        for (int k = 0; k < pt.Length; k++)
            Close(pt[k].to(ScalarType.Float64), ph[k], $"parameter {k} after 40 steps");
    }
}
