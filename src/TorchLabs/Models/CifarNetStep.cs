using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchLabs.Gradients.Functions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TorchLabs.Models;

public sealed partial class CifarNet
{
    /// <summary>
    /// One training step's forward and backward: returns L = cross_entropy(forward(x), y) and adds ∂L/∂θ to every parameter's
    /// .grad, as <c>loss.backward()</c> would. Only the two convolutions go through libtorch and its autograd; the rest is the
    /// hand backward of seed 003, run on raw buffers with no autograd node:
    /// u₁ = conv1(x); p₁ = ReLU(MaxPool(u₁)) (eqs. 30–31); u₂ = conv2(p₁); p₂ = ReLU(MaxPool(u₂)); L = head(p₂) (the
    /// <see cref="ClassifierHeadFunction"/>'s pass: fc1, ReLU, fc2, ReLU, fc3, cross-entropy; eqs. 15, 18–20); then
    /// ∂L/∂u₂ by the pool's scatter (eqs. 44, 46), <c>u₂.backward(∂L/∂u₂)</c> for conv2's gradients and ∂L/∂p₁,
    /// ∂L/∂u₁ by the scatter, <c>u₁.backward(∂L/∂u₁)</c> for conv1's.
    /// Why: every custom autograd Function costs TorchSharp a native node, two marshalled delegates and a tensor per output
    /// (≈ 14 µs forward, ≈ 40 µs backward for the head, measured against ≈ 21 µs of arithmetic), and libtorch's own head is
    /// ≈ 25 calls. The convolutions and pools are libtorch's and the Function's numbers bit for bit; the head adds its products
    /// in another order than libtorch's matrix products, so L and the gradients equal the tutorial's forward and backward to
    /// float32 rounding (tested). Where the kernels do not apply (not float32 on the CPU, no AVX2/FMA) it is
    /// <c>Loss(x, y).backward()</c>.
    /// </summary>
    /// <param name="weight">Adds the gradients of weight · L instead (a lane's share nₖ/N of a batch, <see cref="CifarNetLanes"/>); L is returned unweighted.</param>
    public float LossBackward(Tensor x, Tensor y, float weight = 1f)
    {
        if (x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU || !Avx2.IsSupported || !Fma.IsSupported
            || x.dim() != 4 || y.dtype != ScalarType.Int64)
        {
            var loss = Loss(x, y);
            (weight == 1f ? loss : loss * weight).backward();
            return (float)loss.ToDouble();                                                      // whatever the dtype
        }
        long N = x.shape[0];
        var u1 = functional.conv2d(x, conv1.weight!, conv1.bias);                                  // u₁ = conv1(x)
        var (p1, at1) = Pool(u1);                                                                  // p₁ = ReLU(MaxPool(u₁))
        p1.requires_grad_(true);                                                                   // a leaf: conv2's backward gives ∂L/∂p₁
        var u2 = functional.conv2d(p1, conv2.weight!, conv2.bias);                                 // u₂ = conv2(p₁)
        var (p2, at2) = Pool(u2);                                                                  // p₂ = ReLU(MaxPool(u₂)), [N, 400] flattened
        var head = ClassifierHeadFunction.Pass.Forward(F(p2), F(fc1.weight!), F(fc1.bias!), F(fc2.weight!), F(fc2.bias!), F(fc3.weight!), F(fc3.bias!),
            MemoryMarshal.Cast<byte, long>(y.contiguous().bytes), (int)N, (int)(p2.numel() / N), (int)fc1.weight!.shape[0], (int)fc2.weight!.shape[0], (int)fc3.weight!.shape[0]);
        var dp2 = empty_like(p2);
        head.Backward(weight, F(p2), F(fc1.weight!), F(fc2.weight!), F(fc3.weight!),
            Grad(fc1.weight!), Grad(fc1.bias!), Grad(fc2.weight!), Grad(fc2.bias!), Grad(fc3.weight!), Grad(fc3.bias!), F(dp2), accumulate: true);
        u2.backward([Scatter(dp2, at2, u2)]);                                                      // conv2's ∂L/∂W, ∂L/∂b and ∂L/∂p₁
        u1.backward([Scatter(p1.grad!.contiguous(), at1, u1)]);                                    // conv1's ∂L/∂W, ∂L/∂b
        return head.Loss;
    }

    static Span<float> F(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>The parameter's gradient buffer, made (zeros) when it has none yet, as the first backward would.</summary>
    static Span<float> Grad(Parameter p)
    {
        if (p.grad is null) p.grad = zeros_like(p).DetachFromDisposeScope();
        return F(p.grad);
    }

    static (Tensor Pooled, int[] At) Pool(Tensor u)
    {
        u = u.contiguous();
        long N = u.shape[0], C = u.shape[1], H = u.shape[2], W = u.shape[3];
        var a = empty([N, C, H / 2, W / 2]);
        var at = new int[a.numel()];
        ReluMaxPoolFunction.Kernels.Forward(u.bytes, a.bytes, at, (int)(N * C), (int)H, (int)W);
        return (a, at);
    }

    static Tensor Scatter(Tensor da, int[] at, Tensor u)
    {
        var du = zeros_like(u);
        ReluMaxPoolFunction.Kernels.Backward(da.bytes, du.bytes, at);
        return du;
    }
}
