using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchLabs.Checkpoints;

namespace TorchLabs.Fast;

/// <summary>
/// torch.optim.SGD's fused option (as tinygrad's <c>fused=</c>): torch.optim.SGD with momentum μ (dampening 0, no
/// weight decay, no Nesterov) over flat buffers: every parameter is made a view of one tensor θ and its gradient a view
/// of one tensor g, into which autograd accumulates. Then zero_grad is one op and the step one pass over the buffers
/// (three libtorch ops off the CPU), whatever the number of parameters, instead of about forty: b₁ = g₁, b_t = μ
/// b_{t−1} + g_t (torch's buffer, starting as the first gradient); θ ← θ − η b_t. Element by element the same
/// operations as torch.optim.SGD, so the same numbers (tested bit for bit on the tutorial's Net).
/// </summary>
public sealed class FlatSgd : IDisposable
{
    readonly Tensor theta,
        g;
    Tensor? b;
    readonly Scalar mu;
    Scalar negLr; // −η, made once: a Scalar per call costs an allocation and a native handle
    public double LearningRate { get; private set; }
    public double Momentum { get; }
    public long Steps { get; private set; }

    public FlatSgd(IReadOnlyList<TorchSharp.Modules.Parameter> parameters, double lr, double momentum)
    {
        if (parameters.Count == 0)
            throw new ArgumentException("optimizer got an empty parameter list");
        LearningRate = Ranges.Lr.Require(lr, nameof(lr));
        Momentum = Ranges.Momentum.Require(momentum, nameof(momentum));
        mu = momentum;
        negLr = -lr;
        using var _ = no_grad();
        // The buffers live as long as the optimizer, whatever dispose scope it is made or stepped in.
        theta = cat(parameters.Select(p => p.detach().flatten()).ToList()).DetachFromDisposeScope();
        g = zeros_like(theta).DetachFromDisposeScope();
        long offset = 0;
        foreach (var p in parameters)
        {
            long n = p.numel();
            p.set_(theta.narrow(0, offset, n).view(p.shape)); // θ's slice is now the parameter's storage
            p.grad = g.narrow(0, offset, n).view(p.shape); // autograd accumulates into g's slice
            offset += n;
        }
    }

    /// <summary>Zeroes every gradient at once (g ← 0); the gradient tensors stay, as views of g.</summary>
    public void zero_grad() => g.zero_();

    /// <summary>One update of every parameter: b ← μ b + g (b₁ = g₁), θ ← θ − η b.</summary>
    public void step()
    {
        using var _ = no_grad();
        if (
            b is not null
            && theta.dtype == ScalarType.Float32
            && theta.device_type == DeviceType.CPU
            && Fma.IsSupported
        )
            OnePass();
        else
        {
            b = b is null ? g.clone().DetachFromDisposeScope() : b.mul_(mu).add_(g); // b₁ = g₁; b_t = μ b_{t−1} + g_t
            theta.add_(b, negLr); // θ ← θ − η b_t
        }
        Steps++;
    }

    /// <summary>
    /// The same update in one pass over θ, g and b instead of three libtorch calls, rounded as libtorch rounds it:
    /// μ b (one rounding) + g (one rounding) as mul_ then add_, and θ + (−η) b as one fused multiply-add, which is what
    /// libtorch's vectorised add_(other, alpha) computes (tested bit for bit against torch.optim.SGD).
    /// </summary>
    void OnePass() =>
        Update(
            MemoryMarshal.Cast<byte, float>(theta.bytes),
            MemoryMarshal.Cast<byte, float>(g.bytes),
            MemoryMarshal.Cast<byte, float>(b!.bytes),
            (float)Momentum,
            (float)-LearningRate
        );

    /// <summary>
    /// b ← μ b + g, θ ← θ + a b (a = −η) over the three buffers, each element rounded exactly as libtorch's mul_, add_
    /// and add_(other, alpha) round it. Momentum buffers of units whose gradient stays 0 decay into subnormal numbers
    /// and stay there (μ times the few smallest subnormals rounds back to themselves): in the tutorial Net's training
    /// thousands of them, each of which costs the processor a microcode assist per multiply. Vectors holding such a b
    /// take <see cref="DeadUnits"/> or, failing that, <see cref="Lane"/>: the same bits without subnormal arithmetic.
    /// </summary>
    internal static void Update(Span<float> θ, ReadOnlySpan<float> g, Span<float> b, float μ, float a)
    {
        var mv = Vector256.Create(μ);
        var av = Vector256.Create(a);
        uint floor = ThetaFloor(a);
        int i = 0;
        for (; i <= θ.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var bv = Vector256.Create(b.Slice(i, 8));
            var tiny = Tiny(bv);
            if (tiny != Vector256<uint>.Zero)
            {
                if (!DeadUnits(θ.Slice(i, 8), g.Slice(i, 8), b.Slice(i, 8), tiny, μ, a, floor))
                    for (int j = i; j < i + 8; j++)
                        Lane(ref θ[j], g[j], ref b[j], μ, a);
                continue;
            }
            var bt = bv * mv + Vector256.Create(g.Slice(i, 8)); // b_t = μ b_{t−1} + g_t
            bt.CopyTo(b.Slice(i, 8));
            Fma.MultiplyAdd(bt, av, Vector256.Create(θ.Slice(i, 8))).CopyTo(θ.Slice(i, 8)); // θ ← θ − η b_t
        }
        for (; i < θ.Length; i++)
            Lane(ref θ[i], g[i], ref b[i], μ, a);
    }

    /// <summary>|x| of a float's bits below this (2^−125) is "tiny": subnormal, or near enough that μ x is.</summary>
    const uint TinyBits = 0x0100_0000;

    static Vector256<uint> Magnitude(Vector256<float> x) => x.AsUInt32() & Vector256.Create(0x7FFF_FFFFu);

    static Vector256<uint> Tiny(Vector256<float> x) =>
        Vector256.LessThan(Magnitude(x) - Vector256<uint>.One, Vector256.Create(TinyBits - 1));

    static bool IsTiny(float x) => (BitConverter.SingleToUInt32Bits(x) & 0x7FFF_FFFF) - 1 < TinyBits - 1;

    static readonly double Ulp = Math.ScaleB(1.0, -149),
        InverseUlp = Math.ScaleB(1.0, 149),
        MinNormal = Math.ScaleB(1.0, -126),
        QuarterUlp = Math.ScaleB(1.0, -26); // 2^−26 |θ| is under a quarter of θ's ulp (half the ulp below a power of 2)

    /// <summary>
    /// The bits of the least |θ| (at least the smallest subnormal) from which θ + a b_t = θ for every tiny b_t:
    /// |a b_t| &lt; |a| 2^−125 ≤ 2^−26 |θ|, under a quarter of θ's ulp.
    /// </summary>
    static uint ThetaFloor(float a)
    {
        double exact = Math.Abs((double)a) * Math.ScaleB(1.0, -99);
        float f = (float)exact;
        if (f < exact)
            f = MathF.BitIncrement(f);
        return Math.Max(1u, BitConverter.SingleToUInt32Bits(f));
    }

    /// <summary>
    /// Eight elements some of whose b are tiny, in vector form when those elements' gradient is 0 (units that no longer
    /// learn: the common case) and μ ≤ 1. Below 2^−125 a float's bits k are its value in units of 2^−149, so μ b is
    /// round(μ k) in those units, ties to even: exact in double (24 × 24 bits), and b_t = μ b + (±0). θ + a b_t is θ
    /// for a tiny b_t when |θ| is at least <paramref name="floor"/>. Returns false, having written nothing, when an
    /// element needs <see cref="Lane"/>.
    /// </summary>
    static bool DeadUnits(
        Span<float> θ,
        ReadOnlySpan<float> g,
        Span<float> b,
        Vector256<uint> tiny,
        float μ,
        float a,
        uint floor
    )
    {
        var gv = Vector256.Create(g);
        var θv = Vector256.Create(θ);
        if (!(μ <= 1) || (Magnitude(gv) & tiny) != Vector256<uint>.Zero)
            return false;
        var bits = Vector256.Create(b).AsUInt32();
        var sign = bits & Vector256.Create(0x8000_0000u);
        var k = (bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32();
        var μd = Vector256.Create((double)μ);
        var kμ = Vector256
            .Create(
                Avx.ConvertToVector128Int32WithTruncation(
                    Avx.RoundToNearestInteger(Avx.ConvertToVector256Double(k.GetLower()) * μd)
                ),
                Avx.ConvertToVector128Int32WithTruncation(
                    Avx.RoundToNearestInteger(Avx.ConvertToVector256Double(k.GetUpper()) * μd)
                )
            )
            .AsUInt32();
        var μb = kμ | sign;
        // ±0 + ±0
        var btTiny = Vector256.ConditionalSelect(Vector256.Equals(kμ, Vector256<uint>.Zero), μb & gv.AsUInt32(), μb);
        var other =
            Vector256.ConditionalSelect(tiny.AsSingle(), Vector256<float>.Zero, Vector256.Create(b))
                * Vector256.Create(μ)
            + gv;
        var bt = Vector256.ConditionalSelect(tiny.AsSingle(), btTiny.AsSingle(), other);
        var still = Tiny(bt); // θ stays where b_t is tiny, if |θ| allows it
        var θMagnitude = Magnitude(θv);
        var tooSmallOrNaN =
            Vector256.LessThan(θMagnitude, Vector256.Create(floor))
            | Vector256.GreaterThan(θMagnitude, Vector256.Create(0x7F80_0000u));
        if ((still & tooSmallOrNaN) != Vector256<uint>.Zero)
            return false;
        var moved = Fma.MultiplyAdd(
            Vector256.ConditionalSelect(still.AsSingle(), Vector256<float>.Zero, bt),
            Vector256.Create(a),
            θv
        );
        bt.CopyTo(b);
        Vector256.ConditionalSelect(still.AsSingle(), θv, moved).CopyTo(θ);
        return true;
    }

    /// <summary>
    /// One element of <see cref="Update"/>. Where b or b_t is tiny, the float operations are done in double, where
    /// these numbers are normal: a product of two floats is exact in double, a sum of two floats rounded to double and
    /// then to float is rounded once (53 ≥ 2·24 + 2), and below 2^−126 the results are multiples of 2^−149, made from
    /// their bits. θ + a b_t with a tiny b_t leaves θ as it is when |a b_t| is under a quarter of θ's ulp; otherwise
    /// the processor's FMA.
    /// </summary>
    static void Lane(ref float θ, float g, ref float b, float μ, float a)
    {
        if (!IsTiny(b))
            b = b * μ + g; // no subnormal operand: as libtorch, in float
        else
        {
            float μb = Narrow(Wide(b) * μ); // μ b, exact in double, rounded once to float
            b =
                g == 0 && μb == 0 ? μb + g
                : g == 0 ? μb
                : Narrow(Wide(μb) + Wide(g));
        }
        if (IsTiny(b) && θ != 0 && Math.Abs(Wide(b) * a) < Math.Abs(Wide(θ)) * QuarterUlp)
            return; // θ + a b_t = θ
        θ = MathF.FusedMultiplyAdd(b, a, θ);
    }

    /// <summary>A float in double without converting a subnormal in hardware: k·2^−149 from its bits.</summary>
    static double Wide(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if ((bits & 0x7F80_0000) != 0)
            return x;
        double m = (bits & 0x007F_FFFF) * Ulp;
        return (bits & 0x8000_0000) != 0 ? -m : m;
    }

    /// <summary>
    /// A double rounded to float: in hardware when the float is normal; below 2^−126 to the nearest multiple of 2^−149
    /// (ties to even), built from its bits, sign and zeros kept.
    /// </summary>
    static float Narrow(double s)
    {
        if (Math.Abs(s) >= MinNormal)
            return (float)s;
        uint k = (uint)Math.Round(Math.Abs(s) * InverseUlp, MidpointRounding.ToEven);
        return BitConverter.UInt32BitsToSingle(k | (double.IsNegative(s) ? 0x8000_0000u : 0));
    }

    /// <summary>How a training loop calls this optimizer and saves its state (<see cref="OptimizerHooks"/>).</summary>
    public OptimizerHooks Hooks() => new(zero_grad, step, SaveState, LoadState, SetLearningRate);

    public void SetLearningRate(double lr)
    {
        LearningRate = Ranges.Lr.Require(lr, nameof(lr));
        negLr.Dispose();
        negLr = -lr;
    }

    /// <summary>The step count and the momentum buffer (exact bytes).</summary>
    public void SaveState(BinaryWriter w)
    {
        w.Write(Steps);
        w.Write(b is not null);
        if (b is not null)
            Checkpoint.WriteTensor(w, b);
    }

    public void LoadState(BinaryReader r)
    {
        Steps = r.ReadInt64();
        b?.Dispose();
        b = r.ReadBoolean() ? Checkpoint.ReadTensor(r).DetachFromDisposeScope() : null;
        if (b is not null && !b.shape.SequenceEqual(theta.shape))
            throw new FormatException("momentum buffer of another size");
    }

    public void Dispose()
    {
        b?.Dispose();
        theta.Dispose(); // the parameters keep the storage alive: they are views of it
        g.Dispose();
        mu.Dispose();
        negLr.Dispose();
    }
}
