using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TorchLabs.Fast;

/// <summary>
/// Notes 003 eqs. 30–31 as one autograd Function: h = MaxPool2d(2)(u), a = ReLU(h), for u [N, C, H, W] → a [N, C,
/// ⌊H/2⌋, ⌊W/2⌋] (eq. 36). Its backward is eqs. 44 and 46: ∂L/∂u is ∂L/∂a · (1 + sgn h)/2 at the window's maximum and 0
/// at the other three places. With the maximum taken as libtorch takes it (the first one in row-major order, or the
/// last NaN), this is the tutorial Net's ReLU-then-pool bit for bit, forward and backward: max and ReLU are both
/// monotone, so ReLU(max u) = max ReLU(u), and where the maximum is not positive both give a zero gradient (tested
/// against <see cref="Reference"/>). Why it exists: libtorch's CPU max-pool decides every comparison with a branch,
/// which the data make unpredictable (docs/performance.md, round three); this forward compares four windows at a time
/// without branches and keeps where each maximum came from for the backward, a plain scatter. float32 uses the vector
/// kernel (SSE), float64 a scalar loop; other devices, types or sizes go to <see cref="Reference"/>.
/// </summary>
public sealed class ReluMaxPoolFunction : autograd.SingleTensorFunction<ReluMaxPoolFunction>
{
    public override string Name => "ReluMaxPool2x2";

    /// <summary>ReLU(MaxPool2d(2)(u)) with the hand backward, or libtorch's ops where the kernel does not
    /// apply.</summary>
    public static Tensor Apply(Tensor u) => Fits(u) ? apply(u) : Reference(u);

    /// <summary>The tutorial's order with libtorch's own ops: ReLU, then 2×2 max-pool with stride 2 (the oracle of the
    /// tests).</summary>
    public static Tensor Reference(Tensor u) => nn.functional.max_pool2d(nn.functional.relu(u), 2, 2);

    static bool Fits(Tensor u) =>
        u.dim() == 4
        && u.device_type == DeviceType.CPU
        && (u.dtype is ScalarType.Float32 or ScalarType.Float64)
        && u.shape[2] >= 2
        && u.shape[3] >= 2
        && u.numel() < int.MaxValue;

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var u = ((Tensor)vars[0]).contiguous();
        // csharpier-ignore
        long N = u.shape[0], C = u.shape[1], H = u.shape[2], W = u.shape[3];
        var a = empty([N, C, H / 2, W / 2], u.dtype);
        // where each window's maximum sits in u; one's complement where a = 0
        var at = new int[N * C * (H / 2) * (W / 2)];
        if (u.dtype == ScalarType.Float32)
            Kernels.Forward(u.bytes, a.bytes, at, (int)(N * C), (int)H, (int)W);
        else
            Kernels.ForwardScalar<double>(u.bytes, a.bytes, at, (int)(N * C), (int)H, (int)W);
        ctx.save_data("at", at);
        ctx.save_data("shape", new[] { N, C, H, W });
        return a;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor g)
    {
        var at = (int[])ctx.get_data("at");
        var shape = (long[])ctx.get_data("shape");
        if (is_grad_enabled())
        {
            // create_graph (gradgradcheck): the same scatter in differentiable ops, linear in g
            var index = tensor(at.Select(k => (long)(k < 0 ? ~k : k)).ToArray());
            var keep = tensor(at.Select(k => k >= 0).ToArray()).to(g.dtype);
            var flat = zeros(shape.Aggregate(1L, (p, s) => p * s), g.dtype).scatter(0, index, g.flatten() * keep);
            return [flat.view(shape)];
        }
        var gc = g.contiguous();
        var du = zeros(shape, g.dtype);
        if (g.dtype == ScalarType.Float32)
            Kernels.Backward(gc.bytes, du.bytes, at);
        else
            Kernels.BackwardScalar<double>(gc.bytes, du.bytes, at);
        return [du];
    }

    /// <summary>The float32/float64 loops, also used by <see cref="CifarNetFastStep.LossBackward"/> without an autograd
    /// node.</summary>
    internal static class Kernels
    {
        /// <summary>float32: four windows per step along a row pair (SSE), the scalar loop for rows under four
        /// windows.</summary>
        public static void Forward(Span<byte> uBytes, Span<byte> aBytes, int[] at, int planes, int H, int W)
        {
            int Ho = H / 2,
                Wo = W / 2;
            if (!Sse.IsSupported || Wo < 4)
            {
                ForwardScalar<float>(uBytes, aBytes, at, planes, H, W);
                return;
            }
            var u = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(uBytes);
            var a = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(aBytes);
            for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < Ho; oh++)
            {
                int row0 = (p * H + 2 * oh) * W,
                    outRow = (p * Ho + oh) * Wo;
                Row(u, a, at, row0, W, outRow, Wo);
            }
        }

        /// <summary>One output row, four windows at a time; the last block overlaps the one before when Wo is not a
        /// multiple of 4.</summary>
        static void Row(Span<float> u, Span<float> a, int[] at, int row0, int W, int outRow, int Wo)
        {
            var lane = Vector128.Create(0, 2, 4, 6);
            for (int ow = 0; ; ow += 4)
            {
                if (ow > Wo - 4)
                    ow = Wo - 4;
                int i = row0 + 2 * ow;
                var (u00, u01) = Deinterleave(Vector128.Create(u.Slice(i, 4)), Vector128.Create(u.Slice(i + 4, 4)));
                var (u10, u11) = Deinterleave(
                    Vector128.Create(u.Slice(i + W, 4)),
                    Vector128.Create(u.Slice(i + W + 4, 4))
                );
                var h = u00;
                var k = Vector128<int>.Zero; // h = max of the window, k = which of its four
                Take(u01, ref h, ref k, Vector128.Create(1));
                Take(u10, ref h, ref k, Vector128.Create(W));
                Take(u11, ref h, ref k, Vector128.Create(W + 1));
                // (1 + sgn h)/2 = 1, or NaN
                var positive = Vector128.GreaterThan(h, Vector128<float>.Zero) | ~Vector128.Equals(h, h);
                var where = Vector128.Create(i) + lane + k;
                // a = ReLU(h)
                Vector128.ConditionalSelect(positive, h, Vector128<float>.Zero).CopyTo(a.Slice(outRow + ow, 4));
                Vector128.ConditionalSelect(positive.AsInt32(), where, ~where).CopyTo(at.AsSpan(outRow + ow, 4));
                if (ow == Wo - 4)
                    break;
            }
        }

        /// <summary>The candidate v replaces the running maximum where it is larger or NaN: libtorch's rule, so the
        /// first maximum wins.</summary>
        static void Take(Vector128<float> v, ref Vector128<float> h, ref Vector128<int> k, Vector128<int> offset)
        {
            var c = Vector128.GreaterThan(v, h) | ~Vector128.Equals(v, v);
            h = Vector128.ConditionalSelect(c, v, h);
            k = Vector128.ConditionalSelect(c.AsInt32(), offset, k);
        }

        static (Vector128<float> Even, Vector128<float> Odd) Deinterleave(Vector128<float> lo, Vector128<float> hi) =>
            (Sse.Shuffle(lo, hi, 0b10_00_10_00), Sse.Shuffle(lo, hi, 0b11_01_11_01));

        /// <summary>The same rule one window at a time (float64, and float32 without SSE or with rows under four
        /// windows).</summary>
        public static void ForwardScalar<T>(Span<byte> uBytes, Span<byte> aBytes, int[] at, int planes, int H, int W)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var u = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(uBytes);
            var a = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(aBytes);
            // csharpier-ignore
            int Ho = H / 2, Wo = W / 2, o = 0;
            for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++, o++)
            {
                int i = (p * H + 2 * oh) * W + 2 * ow,
                    where = i;
                T h = u[i];
                foreach (int j in (ReadOnlySpan<int>)[i + 1, i + W, i + W + 1])
                    if (u[j] > h || T.IsNaN(u[j]))
                    {
                        h = u[j];
                        where = j;
                    }
                bool positive = h > T.Zero || T.IsNaN(h);
                a[o] = positive ? h : T.Zero;
                at[o] = positive ? where : ~where;
            }
        }

        /// <summary>∂L/∂u = ∂L/∂a at each window's maximum where h &gt; 0, 0 elsewhere (eqs. 44, 46); without branches
        /// for float32.</summary>
        public static void Backward(Span<byte> gBytes, Span<byte> duBytes, int[] at)
        {
            var g = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(gBytes); // float bits
            var du = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(duBytes);
            for (int o = 0; o < at.Length; o++)
            {
                int k = at[o],
                    notPositive = k >> 31; // all ones where the window's maximum was not positive
                du[k ^ notPositive] = g[o] & ~notPositive;
            }
        }

        public static void BackwardScalar<T>(Span<byte> gBytes, Span<byte> duBytes, int[] at)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var g = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(gBytes);
            var du = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(duBytes);
            for (int o = 0; o < at.Length; o++)
                if (at[o] >= 0)
                    du[at[o]] = g[o];
        }
    }
}
