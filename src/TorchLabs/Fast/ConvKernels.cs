using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Floats = System.ReadOnlySpan<float>;

namespace TorchLabs.Fast;

/// <summary>A convolution's sizes: N images of C channels, H × Wd, into O channels.</summary>
internal readonly record struct ConvSizes(int N, int C, int H, int Wd, int O);

/// <summary>
/// A 5×5 convolution, stride 1, no padding, in float32 AVX2 loops: the tutorial Net's conv1 (3 → 6 channels, 32×32 →
/// 28×28), whose input needs no gradient. Forward (notes 003 eq. 29 with PyTorch's tied bias): u[n,o,i,j] = b[o] + Σ_c
/// Σ_p Σ_q W[o,c,p,q] x[n,c,i+p,j+q]. Gradients (eqs. 48–51, tied bias): ∂L/∂W[o,c,p,q] = Σ_n Σ_i Σ_j δ[n,o,i,j]
/// x[n,c,i+p,j+q], ∂L/∂b[o] = Σ_n Σ_i Σ_j δ[n,o,i,j], for δ = ∂L/∂u. Why: at batch 4, libtorch's conv1 costs its oneDNN
/// set-up, an autograd node and a second backward call on top of ≈ 2.8 M multiply-adds each way; these loops do only
/// the arithmetic (sixteen outputs by six channels a step forward, two channels by five taps for the weight gradient).
/// They add in another order than oneDNN: equal to float32 rounding (tested against float64 libtorch).
/// </summary>
internal static class ConvKernels
{
    public const int K = 5;

    static Vector256<float> L(ref float r, int i) => Vector256.LoadUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fm(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);

    /// <summary>Whether the loops apply: AVX2 with FMA, and output rows of at least sixteen.</summary>
    public static bool Fits(int H, int W) => Avx2.IsSupported && Fma.IsSupported && H >= K && W - K + 1 >= 16;

    /// <summary>The output's size; the loops read raw memory, so every length is checked against the sizes
    /// first.</summary>
    static (int Ho, int Wo) Check(ConvSizes z, int xLength, int weightLength, int biasLength, int outputLength)
    {
        var (N, C, H, Wd, O) = z;
        int Ho = H - K + 1,
            Wo = Wd - K + 1;
        if (
            xLength != N * C * H * Wd
            || weightLength != O * C * K * K
            || biasLength != O
            || outputLength != N * O * Ho * Wo
            || !Fits(H, Wd)
        )
            throw new ArgumentException("convolution sizes do not match");
        return (Ho, Wo);
    }

    /// <summary>u = conv(x, W) + b for x [N, C, H, Wd], W [O, C, 5, 5], b [O] → u [N, O, H − 4, Wd − 4]; six output
    /// channels by sixteen columns a step.</summary>
    public static void Forward(Floats x, Floats Wt, Floats b, Span<float> u, ConvSizes z)
    {
        var (Ho, Wo) = Check(z, x.Length, Wt.Length, b.Length, u.Length);
        var (N, C, H, Wd, O) = z;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float ur = ref MemoryMarshal.GetReference(u);
        Span<int> o = stackalloc int[6];
        for (int n = 0; n < N; n++)
        for (int o0 = 0; o0 < O; o0 += 6)
        {
            // a short group repeats its last channel: the same stores again
            for (int k = 0; k < 6; k++)
                o[k] = Math.Min(o0 + k, O - 1);
            for (int i = 0; i < Ho; i++)
            for (int j = 0; ; j += 16)
            {
                if (j > Wo - 16)
                    j = Wo - 16; // the last block overlaps the one before: same values
                // csharpier-ignore
                Vector256<float> a0 = Vector256.Create(b[o[0]]), a1 = Vector256.Create(b[o[1]]),
                    a2 = Vector256.Create(b[o[2]]), a3 = Vector256.Create(b[o[3]]), a4 = Vector256.Create(b[o[4]]),
                    a5 = Vector256.Create(b[o[5]]);
                // csharpier-ignore
                Vector256<float> c0 = a0, c1 = a1, c2 = a2, c3 = a3, c4 = a4, c5 = a5;
                for (int c = 0; c < C; c++)
                for (int p = 0; p < K; p++)
                {
                    int row = ((n * C + c) * H + i + p) * Wd + j;
                    for (int q = 0; q < K; q++)
                    {
                        Vector256<float> v = L(ref xr, row + q),
                            v8 = L(ref xr, row + q + 8);
                        int w = (c * K + p) * K + q,
                            step = C * K * K;
                        // one line per output channel: s = W[o, c, p, q], then both halves of the row
                        // csharpier-ignore-start
                        var s = Vector256.Create(Wt[o[0] * step + w]); a0 = Fm(s, v, a0); c0 = Fm(s, v8, c0);
                        s = Vector256.Create(Wt[o[1] * step + w]); a1 = Fm(s, v, a1); c1 = Fm(s, v8, c1);
                        s = Vector256.Create(Wt[o[2] * step + w]); a2 = Fm(s, v, a2); c2 = Fm(s, v8, c2);
                        s = Vector256.Create(Wt[o[3] * step + w]); a3 = Fm(s, v, a3); c3 = Fm(s, v8, c3);
                        s = Vector256.Create(Wt[o[4] * step + w]); a4 = Fm(s, v, a4); c4 = Fm(s, v8, c4);
                        s = Vector256.Create(Wt[o[5] * step + w]); a5 = Fm(s, v, a5); c5 = Fm(s, v8, c5);
                        // csharpier-ignore-end
                    }
                }
                Store(ref ur, ((n * O + o[0]) * Ho + i) * Wo + j, a0, c0);
                Store(ref ur, ((n * O + o[1]) * Ho + i) * Wo + j, a1, c1);
                Store(ref ur, ((n * O + o[2]) * Ho + i) * Wo + j, a2, c2);
                Store(ref ur, ((n * O + o[3]) * Ho + i) * Wo + j, a3, c3);
                Store(ref ur, ((n * O + o[4]) * Ho + i) * Wo + j, a4, c4);
                Store(ref ur, ((n * O + o[5]) * Ho + i) * Wo + j, a5, c5);
                if (j == Wo - 16)
                    break;
            }
        }
    }

    static void Store(ref float r, int at, Vector256<float> lo, Vector256<float> hi)
    {
        lo.StoreUnsafe(ref r, (nuint)at);
        hi.StoreUnsafe(ref r, (nuint)(at + 8));
    }

    /// <summary>
    /// ∂L/∂W and ∂L/∂b from δ = ∂L/∂u [N, O, Ho, Wo] and x, added to <paramref name="dW"/> and <paramref name="db"/>
    /// (each sum made first, then added, as autograd accumulates): two output channels by five taps along a row at a
    /// time.
    /// </summary>
    public static void WeightGradient(Floats delta, Floats x, Span<float> dW, Span<float> db, ConvSizes z)
    {
        var (Ho, Wo) = Check(z, x.Length, dW.Length, db.Length, delta.Length);
        var (N, C, H, Wd, O) = z;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(delta);
        for (int o = 0; o < O; o++)
        {
            float s = 0;
            for (int n = 0; n < N; n++)
                foreach (float v in delta.Slice((n * O + o) * Ho * Wo, Ho * Wo))
                    s += v;
            db[o] += s;
        }
        // the last tail columns: a block ending at Wo, its first lanes masked off
        int tail = Wo % 8;
        var mask = Vector256
            .GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(8 - tail))
            .AsSingle();
        Span<float> sums = stackalloc float[2 * K];
        for (int o0 = 0; o0 < O; o0 += 2)
        {
            int o1 = o0 + 1 < O ? o0 + 1 : o0; // an odd last channel: computed twice, added once
            for (int c = 0; c < C; c++)
            for (int p = 0; p < K; p++)
            {
                // e for channel o0 and f for channel o1, by tap q = 0..4
                // csharpier-ignore
                Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default, e4 = default;
                // csharpier-ignore
                Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default, f4 = default;
                for (int n = 0; n < N; n++)
                for (int i = 0; i < Ho; i++)
                {
                    // csharpier-ignore
                    int xrow = ((n * C + c) * H + i + p) * Wd, d0row = ((n * O + o0) * Ho + i) * Wo,
                        d1row = ((n * O + o1) * Ho + i) * Wo;
                    for (int j = 0; j <= Wo - 8 || (tail > 0 && j == Wo - tail); j += 8)
                    {
                        int jj = j,
                            at = j;
                        Vector256<float> d0,
                            d1;
                        if (j > Wo - 8)
                        {
                            jj = Wo - 8; // overlap the previous block, counting only its new lanes
                            d0 = L(ref dr, d0row + jj) & mask;
                            d1 = L(ref dr, d1row + jj) & mask;
                        }
                        else
                        {
                            d0 = L(ref dr, d0row + at);
                            d1 = L(ref dr, d1row + at);
                        }
                        // one line per tap q: v = x[n, c, i + p, j + q], then both channels
                        // csharpier-ignore-start
                        var v = L(ref xr, xrow + jj); e0 = Fm(d0, v, e0); f0 = Fm(d1, v, f0);
                        v = L(ref xr, xrow + jj + 1); e1 = Fm(d0, v, e1); f1 = Fm(d1, v, f1);
                        v = L(ref xr, xrow + jj + 2); e2 = Fm(d0, v, e2); f2 = Fm(d1, v, f2);
                        v = L(ref xr, xrow + jj + 3); e3 = Fm(d0, v, e3); f3 = Fm(d1, v, f3);
                        v = L(ref xr, xrow + jj + 4); e4 = Fm(d0, v, e4); f4 = Fm(d1, v, f4);
                        // csharpier-ignore-end
                    }
                }
                // csharpier-ignore-start
                sums[0] = Vector256.Sum(e0); sums[1] = Vector256.Sum(e1); sums[2] = Vector256.Sum(e2);
                sums[3] = Vector256.Sum(e3); sums[4] = Vector256.Sum(e4);
                sums[5] = Vector256.Sum(f0); sums[6] = Vector256.Sum(f1); sums[7] = Vector256.Sum(f2);
                sums[8] = Vector256.Sum(f3); sums[9] = Vector256.Sum(f4);
                // csharpier-ignore-end
                for (int q = 0; q < K; q++)
                {
                    dW[((o0 * C + c) * K + p) * K + q] += sums[q];
                    if (o1 != o0)
                        dW[((o1 * C + c) * K + p) * K + q] += sums[K + q];
                }
            }
        }
    }
}
