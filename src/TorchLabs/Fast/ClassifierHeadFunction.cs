using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TorchLabs.Fast;

/// <summary>
/// The tutorial Net's fully connected head and its loss as one autograd Function. For h [N, I] (the flattened pooled
/// features), labels y [N] and three layers: z₁ = h W₁ᵀ + b₁, a₁ = ReLU(z₁); z₂ = a₁ W₂ᵀ + b₂, a₂ = ReLU(z₂); z₃ = a₂
/// W₃ᵀ + b₃; L = (1/N) Σₙ −log softmax(z₃ₙ)[yₙ] (notes 003 eq. 8 with one-hot targets, averaged over the batch). The
/// backward is notes 003's chain, batched: δ₃ = (softmax(z₃) − Y)/N (eq. 15, ŷ − y), ∂L/∂W₃ = δ₃ᵀ a₂ (eq. 18), ∂L/∂b₃ =
/// Σₙ δ₃ₙ (eq. 19), ∂L/∂a₂ = δ₃ W₃ (eq. 20); through each ReLU δ = ∂L/∂a ⊙ [z &gt; 0] (the delta recursion of notes 002
/// / Q1), and so on down to ∂L/∂h = δ₁ W₁. Why it exists: at the tutorial's batch of 4 the head's arithmetic is ≈ 0.7 M
/// multiply-adds, but libtorch runs it as about twenty-five calls, each with its dispatch and autograd node
/// (docs/performance.md, round four); here it is one node whose float32 forward and backward are AVX2 loops over the
/// raw buffers. Those loops add in another order than libtorch's matrix products, so the numbers agree with <see
/// cref="Reference"/> to float32 rounding, not bit for bit (tolerances in the tests). float64, other devices, machines
/// without AVX2/FMA, and a backward that builds a graph (create_graph) use libtorch's ops for the same equations, so
/// the Function has second derivatives (gradgradcheck in the hand-Function catalogue).
/// </summary>
public sealed class ClassifierHeadFunction : autograd.SingleTensorFunction<ClassifierHeadFunction>
{
    public override string Name => "ClassifierHead";

    /// <summary>The mean cross-entropy of the three-layer ReLU head on <paramref name="h"/> for class indices <paramref
    /// name="y"/> (int64).</summary>
    public static Tensor Apply(Tensor h, Tensor W1, Tensor b1, Tensor W2, Tensor b2, Tensor W3, Tensor b3, Tensor y)
    {
        if (h.dim() != 2 || y.dim() != 1 || y.shape[0] != h.shape[0] || y.dtype != ScalarType.Int64)
            throw new ArgumentException(
                $"the head takes features [N, {W1.shape[1]}] and int64 labels [N]; got [{string.Join(", ", h.shape)}] and {y.dtype} [{string.Join(", ", y.shape)}]"
            );
        return apply(h, W1, b1, W2, b2, W3, b3, y);
    }

    /// <summary>The same loss with libtorch's ops: linear, ReLU, linear, ReLU, linear, cross_entropy (the oracle of the
    /// tests).</summary>
    public static Tensor Reference(
        Tensor h,
        Tensor W1,
        Tensor b1,
        Tensor W2,
        Tensor b2,
        Tensor W3,
        Tensor b3,
        Tensor y
    ) => Loss(new(h, W1, b1, W2, b2, W3, b3, y));

    static Tensor Loss(Inputs x) => nn.functional.cross_entropy(Logits(x).Z3, x.y);

    /// <summary>The Function's inputs, in the order of <see cref="Apply"/>.</summary>
    internal sealed record Inputs(Tensor h, Tensor W1, Tensor b1, Tensor W2, Tensor b2, Tensor W3, Tensor b3, Tensor y)
    {
        public static Inputs Of(IList<Tensor> t) => new(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);

        public Inputs Contiguous() => Of([.. new[] { h, W1, b1, W2, b2, W3, b3, y }.Select(t => t.contiguous())]);
    }

    /// <summary>Where <see cref="Pass.Backward"/> writes or adds ∂L/∂h and the layers' ∂L/∂W, ∂L/∂b.</summary>
    internal sealed record Gradients(Tensor dh, Tensor dW1, Tensor db1, Tensor dW2, Tensor db2, Tensor dW3, Tensor db3);

    static (Tensor Z1, Tensor Z2, Tensor Z3) Logits(Inputs x)
    {
        var z1 = nn.functional.linear(x.h, x.W1, x.b1); // z₁ = h W₁ᵀ + b₁
        var z2 = nn.functional.linear(nn.functional.relu(z1), x.W2, x.b2); // z₂ = a₁ W₂ᵀ + b₂
        var z3 = nn.functional.linear(nn.functional.relu(z2), x.W3, x.b3); // z₃ = a₂ W₃ᵀ + b₃
        return (z1, z2, z3);
    }

    static bool Fast(Tensor h) =>
        h.dtype == ScalarType.Float32 && h.device_type == DeviceType.CPU && Avx2.IsSupported && Fma.IsSupported;

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var t = vars.Select(v => (Tensor)v).ToArray();
        var x = Inputs.Of(t);
        var (h, W1, b1, W2, b2, W3, b3, y) = x;
        ctx.save_for_backward([.. t]);
        if (!Fast(h))
            return Loss(x);
        var state = Pass.Forward(x.Contiguous());
        ctx.save_data("head", state);
        return tensor(state.Loss);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor g)
    {
        var x = Inputs.Of(ctx.get_saved_variables());
        var (h, W1, b1, W2, b2, W3, b3, _) = x;
        if (!Fast(h) || is_grad_enabled())
            return ReferenceBackward(g, x);
        var s = (Pass)ctx.get_data("head");
        var d = new Gradients(
            empty(h.shape),
            empty(W1.shape),
            empty(b1.shape),
            empty(W2.shape),
            empty(b2.shape),
            empty(W3.shape),
            empty(b3.shape)
        );
        s.Backward(g.item<float>(), x.Contiguous(), d, accumulate: false);
        return [d.dh, d.dW1, d.db1, d.dW2, d.db2, d.dW3, d.db3, null!];
    }

    /// <summary>The same backward in differentiable libtorch ops on the saved inputs (float64, other devices,
    /// create_graph).</summary>
    static List<Tensor> ReferenceBackward(Tensor g, Inputs x)
    {
        var (h, W1, _, W2, _, W3, _, y) = x;
        var (z1, z2, z3) = Logits(x);
        Tensor a1 = nn.functional.relu(z1),
            a2 = nn.functional.relu(z2);
        long N = h.shape[0];
        // δ₃ = (ŷ − Y)/N (eq. 15)
        var delta3 = (z3.softmax(-1) - nn.functional.one_hot(y, z3.shape[1]).to_type(z3.dtype)) / N * g;
        var delta2 = matmul(delta3, W3) * (z2 > 0).to_type(z2.dtype); // δ₂ = (δ₃ W₃) ⊙ [z₂ > 0] (eq. 20)
        var delta1 = matmul(delta2, W2) * (z1 > 0).to_type(z1.dtype); // δ₁ = (δ₂ W₂) ⊙ [z₁ > 0]
        return
        [
            matmul(delta1, W1), // ∂L/∂h = δ₁ W₁
            matmul(delta1.t(), h),
            delta1.sum([0]), // ∂L/∂W₁, ∂L/∂b₁ (eqs. 18-19)
            matmul(delta2.t(), a1),
            delta2.sum([0]),
            matmul(delta3.t(), a2),
            delta3.sum([0]),
            null!,
        ];
    }

    static Span<float> F(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>
    /// One float32 pass through the head: <see cref="Forward"/> keeps what the backward needs (a₁ and a₂, whose signs
    /// are z's for ReLU's step, and δ₃), <see cref="Backward"/> writes or adds the gradients. Used by the Function and
    /// by <see cref="CifarNetFastStep.LossBackward"/>, which runs the head without an autograd node.
    /// </summary>
    internal sealed class Pass
    {
        public int N,
            I,
            O1,
            O2,
            C;
        public float Loss;
        public float[] A1 = [],
            A2 = [],
            Delta3 = [];

        /// <summary>The forward pass on contiguous float32 inputs (labels int64); N is the number of labels, I the
        /// features per example, O₁, O₂ and C the layers' output sizes.</summary>
        public static Pass Forward(Inputs x)
        {
            Span<float> h = F(x.h),
                W1 = F(x.W1),
                b1 = F(x.b1),
                W2 = F(x.W2),
                b2 = F(x.b2),
                W3 = F(x.W3),
                b3 = F(x.b3);
            var labels = MemoryMarshal.Cast<byte, long>(x.y.bytes);
            int N = labels.Length,
                I = h.Length / Math.Max(N, 1),
                O1 = (int)x.W1.shape[0],
                O2 = (int)x.W2.shape[0],
                C = (int)x.W3.shape[0];
            // The loops read raw memory: every size is checked against the others first (libtorch's linear would refuse
            // the same).
            if (
                h.Length != N * I
                || W1.Length != O1 * I
                || b1.Length != O1
                || W2.Length != O2 * O1
                || b2.Length != O2
                || W3.Length != C * O2
                || b3.Length != C
                || labels.Length != N
            )
                throw new ArgumentException(
                    $"the head's sizes do not chain: features {h.Length / Math.Max(N, 1)} per example against fc1's {W1.Length / Math.Max(O1, 1)} inputs, W₁ {W1.Length}, b₁ {b1.Length}, W₂ {W2.Length}, b₂ {b2.Length}, W₃ {W3.Length}, b₃ {b3.Length}, {labels.Length} labels for {N} examples"
                );
            foreach (long label in labels)
                if (label < 0 || label >= C)
                    throw new ArgumentException($"label {label} is outside the {C} classes [0, {C - 1}]");
            var p = new Pass
            {
                N = N,
                I = I,
                O1 = O1,
                O2 = O2,
                C = C,
                A1 = new float[N * O1],
                A2 = new float[N * O2],
                Delta3 = new float[N * C],
            };
            var z3 = new float[N * C];
            Kernels.Affine(h, W1, b1, p.A1, N, I, O1, relu: true); // a₁ = ReLU(h W₁ᵀ + b₁)
            Kernels.Affine(p.A1, W2, b2, p.A2, N, O1, O2, relu: true); // a₂ = ReLU(a₁ W₂ᵀ + b₂)
            Kernels.Affine(p.A2, W3, b3, z3, N, O2, C, relu: false); // z₃ = a₂ W₃ᵀ + b₃
            p.Loss = Kernels.SoftmaxCrossEntropy(z3, labels, p.Delta3, N, C); // L, and δ₃ = (ŷ − Y)/N (eq. 15)
            return p;
        }

        /// <summary>The gradients for an upstream ∂/∂L of <paramref name="g"/>; with <paramref name="accumulate"/> they
        /// are added to dW, db (dh is written).</summary>
        public void Backward(float g, Inputs x, Gradients d, bool accumulate)
        {
            Span<float> h = F(x.h),
                W1 = F(x.W1),
                W2 = F(x.W2),
                W3 = F(x.W3);
            Span<float> dW1 = F(d.dW1),
                db1 = F(d.db1),
                dW2 = F(d.dW2),
                db2 = F(d.db2),
                dW3 = F(d.dW3),
                db3 = F(d.db3);
            Span<float> dh = F(d.dh);
            // δ₃ = ∂L/∂z₃ · g (Delta3 kept: a retained graph's next backward)
            var delta3 = g == 1f ? Delta3 : [.. Delta3.Select(d => d * g)];
            var delta2 = new float[N * O2];
            var delta1 = new float[N * O1];
            // ∂L/∂W₃ = δ₃ᵀ a₂, ∂L/∂b₃ = Σₙ δ₃ₙ (eqs. 18-19)
            Kernels.OuterSum(delta3, A2, dW3, db3, N, C, O2, accumulate);
            Kernels.BackThrough(delta3, W3, A2, delta2, N, C, O2); // δ₂ = (δ₃ W₃) ⊙ [z₂ > 0] (eq. 20, ReLU's step)
            Kernels.OuterSum(delta2, A1, dW2, db2, N, O2, O1, accumulate); // ∂L/∂W₂ = δ₂ᵀ a₁, ∂L/∂b₂ = Σₙ δ₂ₙ
            Kernels.BackThrough(delta2, W2, A1, delta1, N, O2, O1); // δ₁ = (δ₂ W₂) ⊙ [z₁ > 0]
            Kernels.OuterSum(delta1, h, dW1, db1, N, O1, I, accumulate); // ∂L/∂W₁ = δ₁ᵀ h, ∂L/∂b₁ = Σₙ δ₁ₙ
            Kernels.BackThrough(delta1, W1, null, dh, N, O1, I); // ∂L/∂h = δ₁ W₁
        }
    }

    /// <summary>The float32 loops, eight lanes of AVX2 fused multiply-adds; blocks at the edges overlap or repeat rows,
    /// never read past them.</summary>
    internal static class Kernels
    {
        static ref float R(Span<float> s) => ref MemoryMarshal.GetReference(s);

        static Vector256<float> L(ref float r, int i) => Vector256.LoadUnsafe(ref r, (nuint)i);

        static Vector256<float> B(float v) => Vector256.Create(v);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Fm(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
            Fma.MultiplyAdd(a, b, c);

        /// <summary>y = x Wᵀ + b (then ReLU) for x [N, I], W [O, I]: four rows by two outputs at a time, eight products
        /// a lane.</summary>
        public static void Affine(
            Span<float> x,
            Span<float> W,
            Span<float> b,
            Span<float> y,
            int N,
            int I,
            int O,
            bool relu
        )
        {
            ref float xr = ref R(x);
            ref float wr = ref R(W);
            for (int n0 = 0; n0 < N; n0 += 4)
            {
                // short blocks repeat the last row
                // csharpier-ignore
                int n1 = Math.Min(n0 + 1, N - 1), n2 = Math.Min(n0 + 2, N - 1), n3 = Math.Min(n0 + 3, N - 1);
                for (int o0 = 0; o0 < O; o0 += 2)
                {
                    int o1 = Math.Min(o0 + 1, O - 1);
                    // csharpier-ignore
                    Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default,
                        s21 = default, s30 = default, s31 = default;
                    int i = 0;
                    for (; i <= I - 8; i += 8)
                    {
                        Vector256<float> w0 = L(ref wr, o0 * I + i),
                            w1 = L(ref wr, o1 * I + i);
                        var v = L(ref xr, n0 * I + i);
                        s00 = Fm(v, w0, s00);
                        s01 = Fm(v, w1, s01);
                        v = L(ref xr, n1 * I + i);
                        s10 = Fm(v, w0, s10);
                        s11 = Fm(v, w1, s11);
                        v = L(ref xr, n2 * I + i);
                        s20 = Fm(v, w0, s20);
                        s21 = Fm(v, w1, s21);
                        v = L(ref xr, n3 * I + i);
                        s30 = Fm(v, w0, s30);
                        s31 = Fm(v, w1, s31);
                    }
                    Span<float> sums =
                    [
                        Vector256.Sum(s00),
                        Vector256.Sum(s01),
                        Vector256.Sum(s10),
                        Vector256.Sum(s11),
                        Vector256.Sum(s20),
                        Vector256.Sum(s21),
                        Vector256.Sum(s30),
                        Vector256.Sum(s31),
                    ];
                    ReadOnlySpan<int> rows = [n0, n1, n2, n3];
                    for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 2; c++)
                    {
                        int n = rows[r],
                            o = c == 0 ? o0 : o1;
                        float z = sums[2 * r + c];
                        for (int k = i; k < I; k++)
                            z += x[n * I + k] * W[o * I + k]; // the last I mod 8 products
                        z += b[o];
                        y[n * O + o] = relu && z <= 0 ? 0f : z; // ReLU as libtorch's: NaN stays NaN
                    }
                }
            }
        }

        /// <summary>
        /// dW = δᵀ a and db = Σₙ δₙ for δ [N, O], a [N, I], two rows of dW by sixteen columns at a time; with
        /// <paramref name="accumulate"/>, dW += δᵀ a and db += Σₙ δₙ instead (the sum first, then the add, as
        /// AccumulateGrad adds).
        /// </summary>
        public static void OuterSum(
            Span<float> delta,
            Span<float> a,
            Span<float> dW,
            Span<float> db,
            int N,
            int O,
            int I,
            bool accumulate = false
        )
        {
            for (int o = 0; o < O; o++)
            {
                float s = 0;
                for (int n = 0; n < N; n++)
                    s += delta[n * O + o];
                db[o] = accumulate ? db[o] + s : s;
            }
            ref float ar = ref R(a);
            ref float dr = ref R(dW);
            for (int o0 = 0; o0 < O; o0 += 2)
            {
                int o1 = o0 + 1 < O ? o0 + 1 : -1; // an odd last row goes alone
                int i = 0;
                for (; i <= I - 16; i += 16)
                {
                    // csharpier-ignore
                    Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default;
                    for (int n = 0; n < N; n++)
                    {
                        // csharpier-ignore
                        Vector256<float> d0 = B(delta[n * O + o0]), d1 = B(o1 < 0 ? 0f : delta[n * O + o1]),
                            v0 = L(ref ar, n * I + i), v1 = L(ref ar, n * I + i + 8);
                        s00 = Fm(d0, v0, s00);
                        s01 = Fm(d0, v1, s01);
                        s10 = Fm(d1, v0, s10);
                        s11 = Fm(d1, v1, s11);
                    }
                    Put(ref dr, o0 * I + i, s00, accumulate);
                    Put(ref dr, o0 * I + i + 8, s01, accumulate);
                    if (o1 >= 0)
                    {
                        Put(ref dr, o1 * I + i, s10, accumulate);
                        Put(ref dr, o1 * I + i + 8, s11, accumulate);
                    }
                }
                for (; i < I; i++) // the last I mod 16 columns
                for (int o = o0; o <= o0 + 1 && o < O; o++)
                {
                    float s = 0;
                    for (int n = 0; n < N; n++)
                        s += delta[n * O + o] * a[n * I + i];
                    dW[o * I + i] = accumulate ? dW[o * I + i] + s : s;
                }
            }
        }

        static void Put(ref float r, int at, Vector256<float> v, bool accumulate) =>
            (accumulate ? L(ref r, at) + v : v).StoreUnsafe(ref r, (nuint)at);

        /// <summary>
        /// dx = δ W for δ [N, O], W [O, I], then ⊙ [a &gt; 0] when <paramref name="below"/> (the layer's ReLU outputs a
        /// [N, I]) is given: four rows by sixteen columns at a time.
        /// </summary>
        public static void BackThrough(
            Span<float> delta,
            Span<float> W,
            float[]? below,
            Span<float> dx,
            int N,
            int O,
            int I
        )
        {
            if (I < 16)
            {
                for (int n = 0; n < N; n++)
                for (int i = 0; i < I; i++)
                {
                    float s = 0;
                    for (int o = 0; o < O; o++)
                        s += delta[n * O + o] * W[o * I + i];
                    dx[n * I + i] = below is not null && below[n * I + i] <= 0 ? 0f : s;
                }
                return;
            }
            ref float wr = ref R(W);
            ref float xr = ref R(dx);
            for (int n0 = 0; n0 < N; n0 += 4)
            {
                // csharpier-ignore
                int n1 = Math.Min(n0 + 1, N - 1), n2 = Math.Min(n0 + 2, N - 1), n3 = Math.Min(n0 + 3, N - 1);
                for (int i = 0; ; i += 16)
                {
                    if (i > I - 16)
                        i = I - 16;
                    // csharpier-ignore
                    Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default,
                        s21 = default, s30 = default, s31 = default;
                    for (int o = 0; o < O; o++)
                    {
                        Vector256<float> w0 = L(ref wr, o * I + i),
                            w1 = L(ref wr, o * I + i + 8);
                        var d = B(delta[n0 * O + o]);
                        s00 = Fm(d, w0, s00);
                        s01 = Fm(d, w1, s01);
                        d = B(delta[n1 * O + o]);
                        s10 = Fm(d, w0, s10);
                        s11 = Fm(d, w1, s11);
                        d = B(delta[n2 * O + o]);
                        s20 = Fm(d, w0, s20);
                        s21 = Fm(d, w1, s21);
                        d = B(delta[n3 * O + o]);
                        s30 = Fm(d, w0, s30);
                        s31 = Fm(d, w1, s31);
                    }
                    Store(ref xr, below, n0 * I + i, s00, s01);
                    Store(ref xr, below, n1 * I + i, s10, s11);
                    Store(ref xr, below, n2 * I + i, s20, s21);
                    Store(ref xr, below, n3 * I + i, s30, s31);
                    if (i == I - 16)
                        break;
                }
            }
        }

        /// <summary>Sixteen values of dx at <paramref name="at"/>, zero where the ReLU output below is not positive
        /// (threshold_backward's rule).</summary>
        static void Store(ref float xr, float[]? below, int at, Vector256<float> lo, Vector256<float> hi)
        {
            if (below is not null)
            {
                ref float br = ref MemoryMarshal.GetArrayDataReference(below);
                lo = Vector256.ConditionalSelect(
                    Vector256.LessThanOrEqual(L(ref br, at), Vector256<float>.Zero),
                    Vector256<float>.Zero,
                    lo
                );
                hi = Vector256.ConditionalSelect(
                    Vector256.LessThanOrEqual(L(ref br, at + 8), Vector256<float>.Zero),
                    Vector256<float>.Zero,
                    hi
                );
            }
            lo.StoreUnsafe(ref xr, (nuint)at);
            hi.StoreUnsafe(ref xr, (nuint)(at + 8));
        }

        /// <summary>
        /// L = (1/N) Σₙ (log Σ_c exp(zₙc − mₙ) − (zₙyₙ − mₙ)) with mₙ = max_c zₙc, as log_softmax computes it; writes
        /// δ₃ = (softmax(z) − Y)/N (eq. 15). Returns L.
        /// </summary>
        public static float SoftmaxCrossEntropy(float[] z, Span<long> labels, float[] delta, int N, int C)
        {
            float total = 0;
            for (int n = 0; n < N; n++)
            {
                var row = z.AsSpan(n * C, C);
                float m = float.NegativeInfinity;
                foreach (float v in row)
                    m = MathF.Max(m, v);
                float sum = 0;
                for (int c = 0; c < C; c++)
                {
                    float e = MathF.Exp(row[c] - m);
                    delta[n * C + c] = e;
                    sum += e;
                }
                int label = (int)labels[n];
                total += MathF.Log(sum) - (row[label] - m); // −log softmax(zₙ)[yₙ]
                for (int c = 0; c < C; c++)
                    delta[n * C + c] = (delta[n * C + c] / sum - (c == label ? 1f : 0f)) / N; // (ŷ − y)/N
            }
            return total / N;
        }
    }
}
