using System.Runtime.InteropServices;
using TorchLabs.Models;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

// The opt-in speed path of TorchLabs, all of it in this folder: the CIFAR-10 tutorial Net's training step with the hand
// derivations of notes 003 as float32 kernels (ConvKernels, ReluMaxPoolFunction, ClassifierHeadFunction), chosen only
// by `cifar10 --impl fast` / `bench cifar-net-train --impl fast`. The default step is TorchSharp's modules and autograd
// (cross_entropy(net.forward(x), y).backward()); this one equals it to float32 rounding, checked against float64
// autograd with the stated bound in tests/TorchLabs.Tests/Fast. Nothing here is chosen by a thread count or any other
// hidden setting.
namespace TorchLabs.Fast;

/// <summary>The hand-written training step of the tutorial Net (<see cref="LossBackward"/>); one instance per Net, one
/// step at a time.</summary>
public sealed class CifarNetFastStep(CifarNet net)
{
    /// <summary>
    /// One training step's forward and backward: returns L = cross_entropy(forward(x), y) and adds ∂L/∂θ to every
    /// parameter's .grad, as <c>loss.backward()</c> would. Only conv2 goes through libtorch and its autograd; the rest
    /// is the hand forward and backward of notes 003 on raw buffers, with no autograd node: u₁ = conv1(x) (<see
    /// cref="ConvKernels"/>, eq. 29); p₁ = ReLU(MaxPool(u₁)) (eqs. 30–31); u₂ = conv2(p₁) (libtorch); p₂ =
    /// ReLU(MaxPool(u₂)); L = head(p₂) (the <see cref="ClassifierHeadFunction"/>'s pass: fc1, ReLU, fc2, ReLU, fc3,
    /// cross-entropy; eqs. 15, 18–20); then ∂L/∂u₂ by the pool's scatter (eqs. 44, 46), <c>u₂.backward(∂L/∂u₂)</c> for
    /// conv2's gradients and ∂L/∂p₁, ∂L/∂u₁ by the scatter, and conv1's ∂L/∂W, ∂L/∂b by <see
    /// cref="ConvKernels.WeightGradient"/> (eqs. 48–51). Why: every custom autograd Function costs TorchSharp a native
    /// node, two marshalled delegates and a tensor per output, and libtorch's own head is ≈ 25 calls
    /// (docs/performance.md has the measurements). The pools are the Function's numbers bit for bit; the head and conv1
    /// add their products in another order than libtorch, so L and the gradients equal the tutorial's forward and
    /// backward to float32 rounding (tested against float64 autograd). Where the loops do not apply (not float32 on the
    /// CPU, no AVX2/FMA, an input the conv1 loops do not take) it is <c>cross_entropy(forward(x), y).backward()</c>.
    /// One step at a time per Net (scratch buffers).
    /// </summary>
    public float LossBackward(Tensor x, Tensor y)
    {
        var (conv1, conv2, fc1, fc2, fc3) = net.Layers;
        if (
            x.dtype != ScalarType.Float32
            || x.device_type != DeviceType.CPU
            || x.dim() != 4
            || y.dtype != ScalarType.Int64
            // Fits: AVX2, FMA, and the size
            || x.shape[1] != conv1.weight!.shape[1]
            || !ConvKernels.Fits((int)x.shape[2], (int)x.shape[3])
        )
        {
            var loss = nn.functional.cross_entropy(net.forward(x), y);
            loss.backward();
            return (float)loss.ToDouble(); // whatever the dtype
        }
        long N = x.shape[0];
        if (!x.is_contiguous())
            x = x.contiguous();
        // csharpier-ignore
        int C = (int)x.shape[1], H = (int)x.shape[2], Wd = (int)x.shape[3], C1 = (int)conv1.weight!.shape[0];
        var u1 = Scratch(ref conv1Output, (int)N * C1 * (H - 4) * (Wd - 4));
        ConvKernels.Forward(F(x), F(conv1.weight!), F(conv1.bias!), u1, new((int)N, C, H, Wd, C1)); // u₁ = conv1(x)
        var (p1, at1) = Pool(MemoryMarshal.AsBytes(u1.AsSpan()), [N, C1, H - 4, Wd - 4]); // p₁ = ReLU(MaxPool(u₁))
        p1.requires_grad_(true); // a leaf: conv2's backward gives ∂L/∂p₁
        var u2 = functional.conv2d(p1, conv2.weight!, conv2.bias); // u₂ = conv2(p₁)
        // p₂ = ReLU(MaxPool(u₂)), [N, 400] flattened
        var (p2, at2) = Pool(u2.contiguous().bytes, u2.shape);
        var x3 = new ClassifierHeadFunction.Inputs(
            p2,
            fc1.weight!,
            fc1.bias!,
            fc2.weight!,
            fc2.bias!,
            fc3.weight!,
            fc3.bias!,
            y.is_contiguous() ? y : y.contiguous()
        );
        var head = ClassifierHeadFunction.Pass.Forward(x3);
        var dp2 = empty_like(p2);
        var d = new ClassifierHeadFunction.Gradients(
            dp2,
            Grad(fc1.weight!),
            Grad(fc1.bias!),
            Grad(fc2.weight!),
            Grad(fc2.bias!),
            Grad(fc3.weight!),
            Grad(fc3.bias!)
        );
        head.Backward(1f, x3, d, accumulate: true);
        var du2 = zeros_like(u2);
        // ∂L/∂u₂: the pool's scatter (eqs. 44, 46)
        ReluMaxPoolFunction.Kernels.Backward(dp2.bytes, du2.bytes, at2);
        u2.backward([du2]); // conv2's ∂L/∂W, ∂L/∂b and ∂L/∂p₁
        var dp1 = p1.grad!;
        if (!dp1.is_contiguous())
            dp1 = dp1.contiguous();
        var du1 = Scratch(ref conv1Delta, u1.Length);
        Array.Clear(du1);
        ReluMaxPoolFunction.Kernels.Backward(dp1.bytes, MemoryMarshal.AsBytes(du1.AsSpan()), at1); // ∂L/∂u₁
        // conv1's ∂L/∂W, ∂L/∂b
        ConvKernels.WeightGradient(du1, F(x), F(Grad(conv1.weight!)), F(Grad(conv1.bias!)), new((int)N, C, H, Wd, C1));
        return head.Loss;
    }

    static Span<float> F(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>The parameter's gradient buffer, made (zeros) when it has none yet, as the first backward
    /// would.</summary>
    static Tensor Grad(Parameter p)
    {
        var g = p.grad; // each .grad is a new handle: read it once
        if (g is null)
            p.grad = g = zeros_like(p).DetachFromDisposeScope();
        if (!g.is_contiguous())
            throw new InvalidOperationException(
                "a parameter's .grad is a strided view; LossBackward adds to contiguous gradients only"
            );
        return g;
    }

    // conv1's output and its gradient, kept between steps (the same sizes each step): a Net takes one step at a time.
    float[]? conv1Output,
        conv1Delta;

    static float[] Scratch(ref float[]? buffer, int length) =>
        buffer is not null && buffer.Length == length ? buffer : buffer = new float[length];

    /// <summary>ReLU(MaxPool2d(2)(u)) for u [N, C, H, W] given as its bytes, and where each window's maximum
    /// sits.</summary>
    static (Tensor Pooled, int[] At) Pool(Span<byte> u, long[] shape)
    {
        // csharpier-ignore
        long N = shape[0], C = shape[1], H = shape[2], W = shape[3];
        var a = empty([N, C, H / 2, W / 2]);
        var at = new int[a.numel()];
        ReluMaxPoolFunction.Kernels.Forward(u, a.bytes, at, (int)(N * C), (int)H, (int)W);
        return (a, at);
    }
}
