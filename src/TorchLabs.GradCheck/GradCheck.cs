using System.Globalization;

namespace TorchLabs.Gradients;

/// <summary>
/// PyTorch's <c>torch.autograd.gradcheck</c> and <c>gradgradcheck</c> for TorchSharp (which has neither), check for
/// check as torch/autograd/gradcheck.py (PyTorch 1.13) makes them: the inputs (one at least requires grad, no stride-0
/// or overlapping memory, float64 or a warning); the Jacobian of every output that requires grad with respect to every
/// input that requires grad, by central differences and by backward with one-hot grad_outputs, compared element by
/// element; backward run twice (reentrancy); backward multiplied by grad_output (zero grad_outputs give zero
/// gradients); outputs without a graph left out, and when none has one, a zero numerical Jacobian demanded. Beyond
/// PyTorch: inputs changed by backward are reported, and a mismatch where the left and right one-sided differences
/// disagree is reported as a point of non-differentiability.
/// </summary>
public static partial class GradCheck
{
    /// <summary>Checks <paramref name="fn"/>'s backward against central differences; see the class summary.</summary>
    /// <param name="fn">The function: its outputs are the tensors it returns (those that require grad are
    /// checked).</param>
    /// <param name="inputs">The point; the Jacobians are taken for the inputs with requires_grad.</param>
    /// <exception cref="ArgumentException">Inputs PyTorch refuses: none requires grad, stride 0, overlapping
    /// memory.</exception>
    public static GradCheckResult Check(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        GradCheckOptions? options = null
    ) =>
        OnAlignedInputs(inputs, (xs, notes) =>
            CheckNamed(fn, xs, options ?? new GradCheckOptions(), names: null, notes)
        );

    internal static GradCheckResult CheckNamed(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        GradCheckOptions o,
        string[]? names,
        List<string>? notes = null
    )
    {
        o.Validate();
        var warnings = CheckInputs(inputs, o);
        if (notes is not null)
            warnings.InsertRange(0, notes);
        using var scope = NewDisposeScope();
        var before = inputs.Select(x => x is null ? [] : Values(x)).ToArray();
        var (complexOutputs, anyComplex) = ComplexOutputs(fn, inputs);
        if (ChangedByForward(inputs, before) is string changed)
            return new GradCheckResult([], [changed], warnings);
        GradCheckResult Once(Func<Tensor[], Tensor[]> f, string? part)
        {
            var run = new Run(f, inputs, o, names, part, complexOutputs, gradOutputTests: part is null);
            return o.FastMode ? run.Fast(warnings) : run.Slow(warnings);
        }
        if (!anyComplex)
            return Once(fn, null);
        // gradcheck.py's _gradcheck_real_imag: a function with a complex output (with a graph or not) is checked twice,
        // on the imaginary parts of its complex outputs, then on their real parts (each a real function of the inputs);
        // the first failure is the verdict. The tests of grad_outputs come after both, on the function itself.
        var imaginary = Once(PartOf(fn, y => y.imag), "imaginary");
        if (!imaginary.Pass)
            return imaginary;
        var real = Once(PartOf(fn, y => y.real), "real");
        var verdict = real.Pass ? new Run(fn, inputs, o, names, null, complexOutputs).GradOutputTests(warnings) : real;
        return verdict with
        {
            Blocks = [.. imaginary.Blocks, .. real.Blocks],
            FastBlocks = [.. imaginary.FastBlocks, .. real.FastBlocks],
        };
    }

    /// <summary>The failure when the function itself (not its backward) changed an input in place, which makes every
    /// central difference meaningless; the input is put back. Null when none changed.</summary>
    static string? ChangedByForward(Tensor[] inputs, double[][] before)
    {
        for (int j = 0; j < inputs.Length; j++)
        {
            if (inputs[j] is null)
                continue;
            double[] now = Values(inputs[j]);
            if (now.SequenceEqual(before[j]))
                continue;
            Restore(inputs[j], before[j]);
            return $"The function modified input {j} in place (by up to {G(MaxAbs(now, before[j]))}): gradcheck needs a function that leaves its inputs as they are.";
        }
        return null;
    }

    /// <summary>fn with <paramref name="part"/> (torch.real or torch.imag) applied to every complex output
    /// (_real_and_imag_output).</summary>
    static Func<Tensor[], Tensor[]> PartOf(Func<Tensor[], Tensor[]> fn, Func<Tensor, Tensor> part) =>
        xs => [.. fn(xs).Select(y => y.is_complex() ? part(y) : y)];

    /// <summary>The indices, among the outputs that require grad, of the complex ones (PyTorch's complex_indices), and
    /// whether any output at all is complex (PyTorch's has_any_complex_output: a complex output without a graph counts
    /// too).</summary>
    static (int[] Indices, bool Any) ComplexOutputs(Func<Tensor[], Tensor[]> fn, Tensor[] inputs)
    {
        using var scope = NewDisposeScope();
        Tensor[] all;
        using (enable_grad())
            all = fn(inputs);
        // What fn made goes with the scope; an input it returns as it is was made outside and stays.
        return (
            [.. all.Where(y => y.requires_grad).Select((y, i) => (y, i)).Where(p => p.y.is_complex()).Select(p => p.i)],
            all.Any(y => y.is_complex())
        );
    }

    /// <summary><see cref="Check"/>, then throws <see cref="GradCheckException"/> if it failed. Warnings (float32
    /// inputs) go to <paramref name="onWarning"/>, or fail the check too with <see
    /// cref="GradCheckOptions.WarningsAsErrors"/>. (Before 0.3.0 it returned a bool that was always true.)</summary>
    public static void Assert(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        GradCheckOptions? options = null,
        Action<string>? onWarning = null
    ) => Raise(Check(fn, inputs, options), options ?? new GradCheckOptions(), onWarning);

    internal static void Raise(GradCheckResult r, GradCheckOptions o, Action<string>? onWarning)
    {
        if (!r.Pass)
            throw new GradCheckException(r.Message, r);
        foreach (string w in r.Warnings)
            onWarning?.Invoke(w);
        if (o.WarningsAsErrors && r.Warnings.Count > 0)
            throw new GradCheckException(string.Join("\n", r.Warnings), r);
    }

    /// <summary>
    /// PyTorch's <c>_check_inputs</c>: at least one input requires grad; every such input is floating point and has no
    /// dimension of stride 0 (an expanded tensor: perturbing one element would move a whole row); not float64 is a
    /// warning. Beyond PyTorch 1.13 (whose overlap check is a TODO): an input whose elements overlap in memory in
    /// another way is refused too. Returns the warnings.
    /// </summary>
    static List<string> CheckInputs(Tensor[] inputs, GradCheckOptions o)
    {
        var warnings = new List<string>();
        bool any = false;
        for (int j = 0; j < inputs.Length; j++)
        {
            var x = inputs[j];
            if (x is null || !x.requires_grad)
                continue;
            if (!x.is_floating_point() && !x.is_complex())
                throw new ArgumentException(
                    $"input {j} requires grad but is {x.dtype}, not a floating-point or complex tensor",
                    nameof(inputs)
                );
            if (x.dtype is not (ScalarType.Float64 or ScalarType.ComplexFloat64))
                warnings.Add(
                    $"Input #{j} requires gradient and is not a double precision floating point or complex. This check will likely fail if all the inputs are not of double precision floating point or complex."
                );
            long[] stride = x.stride(),
                shape = x.shape;
            if (shape.Zip(stride).Any(p => p.Second == 0 && p.First > 1))
                throw new ArgumentException(
                    $"The {j}th input has a dimension with stride 0. gradcheck only supports inputs that are non-overlapping to be able to compute the numerical gradients correctly. You should call .contiguous on the input before passing it to gradcheck."
                );
            if (Overlaps(shape, stride))
            {
                string layout = $"shape [{string.Join(", ", shape)}], strides [{string.Join(", ", stride)}]";
                throw new ArgumentException(
                    $"input {j} has elements that share memory ({layout}): moving one element would move others, so its central differences would be wrong. GradCheck refuses it (PyTorch 1.13 checks it anyway); call .contiguous() on it first."
                );
            }
            any = true;
        }
        if (!any)
            throw new ArgumentException(
                "gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True."
            );
        if (o.CheckBatchedGrad)
            warnings.Add(BatchedGradNote);
        return warnings;
    }

    /// <summary>What <see cref="GradCheckOptions.CheckBatchedGrad"/> does here.</summary>
    internal const string BatchedGradNote =
        "check_batched_grad: TorchSharp has no vmap, so there is no batched gradient to compare with the looped one; nothing beyond the other checks was done.";

    /// <summary>
    /// True when two indices may share memory: with the dimensions of size above 1 sorted by stride, each stride must
    /// exceed the span of the ones before it, Σ (sizeₖ − 1)·strideₖ (a sufficient test for non-overlap, exact for every
    /// view made by transpose, permute, slicing and narrowing).
    /// </summary>
    static bool Overlaps(long[] shape, long[] stride)
    {
        long span = 0;
        foreach (var (size, st) in shape.Zip(stride).Where(p => p.First > 1).OrderBy(p => Math.Abs(p.Second)))
        {
            if (Math.Abs(st) <= span)
                return true;
            span += (size - 1) * Math.Abs(st);
        }
        return false;
    }

    /// <summary>
    /// <c>torch.autograd.gradgradcheck</c>: checks the second derivatives of <paramref name="fn"/> by running <see
    /// cref="Check"/> on g(x, v) = ∂(vᵀ fn(x))/∂x over the inputs that require grad (unused ones left out, as PyTorch),
    /// built with create_graph, where the grad_outputs v (one per output that requires grad) are uniform in [−1, 1)
    /// seeded by <see cref="GradCheckOptions.Seed"/> unless <paramref name="gradOutputs"/> gives them; v is checked as
    /// an input too.
    /// </summary>
    public static GradCheckResult GradGradCheck(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        Tensor[]? gradOutputs = null,
        GradCheckOptions? options = null
    ) =>
        OnAlignedInputs(inputs, (xs, notes) => WithWarnings(GradGradCheckAligned(fn, xs, gradOutputs, options), notes));

    static GradCheckResult WithWarnings(GradCheckResult r, List<string> notes) =>
        notes.Count == 0 ? r : r with { Warnings = [.. notes, .. r.Warnings] };

    static GradCheckResult GradGradCheckAligned(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        Tensor[]? gradOutputs,
        GradCheckOptions? options
    )
    {
        var o = options ?? new GradCheckOptions();
        o.Validate();
        gradOutputs ??= RandomGradOutputs(fn, inputs, o.Seed, o.GenNonContigGradOutputs);
        // PyTorch 1.13 raises here too (its new_func then calls the function with no inputs: a TypeError).
        // no input at all: Check says so in PyTorch's words
        if (gradOutputs.Length == 0 && inputs.Any(x => x.requires_grad))
            throw new ArgumentException(
                "gradgradcheck: no output of the function requires grad, so it has no first derivatives to check"
            );
        try
        {
            return Check(
                FirstDerivatives(fn, inputs.Length, Differentiable(inputs), gradOutputs.Length),
                [.. inputs, .. gradOutputs],
                o
            );
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            // The function's own backward failed while its first derivatives were built: a failure, as Check reports
            // one.
            string first = e.Message.Split('\n', 2)[0].Trim();
            return new GradCheckResult(
                [],
                [$"Backward of the function failed while building its first derivatives: {first}"],
                []
            );
        }
    }

    /// <summary><see cref="GradGradCheck"/>, then throws <see cref="GradCheckException"/> if it failed.</summary>
    public static void AssertGradGrad(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        Tensor[]? gradOutputs = null,
        GradCheckOptions? options = null,
        Action<string>? onWarning = null
    ) => Raise(GradGradCheck(fn, inputs, gradOutputs, options), options ?? new GradCheckOptions(), onWarning);

    /// <summary>
    /// Derivatives of every order up to <paramref name="order"/> (as JAX's <c>check_grads(order=n)</c>): order 1 is
    /// <see cref="Check"/> of fn, order k + 1 is <see cref="Check"/> of the vector-Jacobian product of order k's
    /// function, g(x, v₁ … v_k) = ∂(v_kᵀ g_k)/∂x with fresh random v_k (uniform in [−1, 1), seeded), built with
    /// create_graph. Returns one result per order; the first failing order ends the list.
    /// </summary>
    public static IReadOnlyList<GradCheckResult> CheckOrder(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int order,
        GradCheckOptions? options = null
    ) =>
        OnAlignedInputs(inputs, (xs, notes) =>
            CheckOrderAligned(fn, xs, order, options).Select(r => WithWarnings(r, notes)).ToList()
        );

    static IReadOnlyList<GradCheckResult> CheckOrderAligned(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int order,
        GradCheckOptions? options
    )
    {
        if (order < 1)
            throw new ArgumentOutOfRangeException(
                nameof(order),
                order,
                "the order of derivatives to check must be 1 or more"
            );
        var o = options ?? new GradCheckOptions();
        var results = new List<GradCheckResult>();
        var f = fn;
        var xs = inputs;
        for (int k = 1; k <= order; k++)
        {
            var r = Check(f, xs, o);
            results.Add(r);
            if (!r.Pass || k == order)
                break;
            var v = RandomGradOutputs(f, xs, o.Seed + k);
            f = FirstDerivatives(f, xs.Length, Differentiable(xs), v.Length);
            xs = [.. xs, .. v];
        }
        return results;
    }

    static int[] Differentiable(Tensor[] xs) =>
        Enumerable.Range(0, xs.Length).Where(j => xs[j].requires_grad).ToArray();

    /// <summary>Uniform grad_outputs in [−1, 1) for every output of fn that requires grad (torch.testing.make_tensor's
    /// range).</summary>
    static Tensor[] RandomGradOutputs(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        long seed,
        bool nonContiguous = false
    )
    {
        using var gen = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        Tensor[] outputs;
        using (enable_grad())
            outputs = fn(inputs).Where(y => y.requires_grad).ToArray();
        return outputs
            .Select(y =>
            {
                var v = (Uniform(y, gen) * 2 - 1).detach();
                if (nonContiguous)
                    v = NonContiguous(v);
                return v.requires_grad_(true).MoveToOuterDisposeScope();
            })
            .ToArray();
    }

    /// <summary>torch.testing's noncontiguous_like: the same values as every second element of a buffer of twice the
    /// size, the others NaN.</summary>
    static Tensor NonContiguous(Tensor t)
    {
        var buffer = full([.. t.shape, 2], double.NaN, t.dtype, t.device);
        buffer.select(-1, 1).copy_(t);
        return buffer.select(-1, 1);
    }

    /// <summary>gradgradcheck's function: (x, v) ↦ the gradients of the inputs that require grad for grad_outputs v,
    /// unused ones dropped.</summary>
    static Func<Tensor[], Tensor[]> FirstDerivatives(
        Func<Tensor[], Tensor[]> fn,
        int n,
        int[] diffInputs,
        int numOutputs
    ) =>
        all =>
        {
            if (diffInputs.Length == 0)
                throw new ArgumentException(
                    "gradgradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True."
                );
            using var _ = enable_grad();
            var xs = all[..n];
            var ys = fn(xs).Where(y => y.requires_grad).ToArray();
            if (ys.Length != numOutputs)
                throw new ArgumentException(
                    $"gradgradcheck was given {numOutputs} grad_outputs, but the function has {ys.Length} outputs that require grad: one grad_output per such output is expected."
                );
            if (ys.Length == 0)
                return [];
            var grads = SafeGrad.Grad(
                ys,
                diffInputs.Select(j => xs[j]).ToList(),
                all[n..],
                retainGraph: true,
                createGraph: true
            );
            return grads.Where(g => g is not null).Select(g => g!).ToArray();
        };

    /// <summary>
    /// The numerical Jacobians of every floating-point output with respect to input <paramref name="j"/>, in PyTorch's
    /// orientation: [output][input element, output element], column k of the transposed view being (fn(x + h eₖ) − fn(x
    /// − h eₖ)) / 2h, with xⱼ perturbed in place (under no_grad) and restored.
    /// </summary>
    public static double[][,] NumericalJacobians(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int j,
        double eps = 1e-6
    ) => NumericalJacobians(fn, inputs, j, _ => eps);

    /// <summary>As <see cref="NumericalJacobians(Func{Tensor[], Tensor[]}, Tensor[], int, double)"/>, with a step per
    /// element (given its value).</summary>
    public static double[][,] NumericalJacobians(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int j,
        Func<double, double> step
    ) => NumericalJacobians(fn, inputs, j, step, imaginary: false);

    /// <summary>For a complex input, the differences along the real parts of its elements, or with <paramref
    /// name="imaginary"/> along the imaginary parts (PyTorch's ds/dx and ds/dy, combined as ds/dx + i·ds/dy).</summary>
    internal static double[][,] NumericalJacobians(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int j,
        Func<double, double> step,
        bool imaginary
    )
    {
        using var _ = no_grad();
        var x = inputs[j];
        long n = x.numel();
        double[][,]? jac = null;
        for (long k = 0; k < n; k++)
        {
            var (minus, _, plus, h) = AroundElement(fn, inputs, j, k, step, centre: false, imaginary);
            jac ??= plus.Select(y => new double[n, y.Length]).ToArray();
            for (int i = 0; i < plus.Length; i++)
            {
                if (plus[i].Length != jac[i].GetLength(1))
                    throw new ArgumentException(
                        $"Expected `func` to return outputs with the same shape when inputs are perturbed by {h}, but output {i} had {jac[i].GetLength(1)} elements at one element and {plus[i].Length} at another."
                    );
                for (int r = 0; r < plus[i].Length; r++)
                    jac[i][k, r] = (plus[i][r] - minus[i][r]) / (2 * h);
            }
        }
        return jac ?? Evaluate(fn, inputs).Select(y => new double[0, y.Length]).ToArray();
    }

    /// <summary>
    /// The numerical Jacobians with a row per output element, as this call gave them before TorchLabs.GradCheck
    /// followed PyTorch's orientation (kept so that code written against it compiles and means the same); new code:
    /// <see cref="NumericalJacobians(Func{Tensor[], Tensor[]}, Tensor[], int, double)"/>, a row per input element.
    /// </summary>
    public static double[][,] NumericalJacobian(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int j,
        double eps = 1e-6
    ) => NumericalJacobians(fn, inputs, j, eps).Select(Transpose).ToArray();

    /// <summary>fn at xⱼ[k] − h, (optionally) at xⱼ[k], and at xⱼ[k] + h, the element restored after.</summary>
    internal static (double[][] Minus, double[][]? Centre, double[][] Plus, double H) AroundElement(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        int j,
        long k,
        Func<double, double> step,
        bool centre,
        bool imaginary = false
    )
    {
        using var _ = no_grad();
        var element = Coordinate(inputs[j], k, imaginary);
        double keep = element.to_type(ScalarType.Float64).item<double>();
        double h = step(keep);
        element.fill_(keep - h);
        var minus = Measure(fn, inputs);
        element.fill_(keep);
        var mid = centre ? Evaluate(fn, inputs) : null;
        element.fill_(keep + h);
        var plus = Measure(fn, inputs);
        element.fill_(keep);
        SameShapeAndDtype(minus.Outputs, plus.Outputs, h, k);
        return (minus.Values, mid, plus.Values, h);
    }

    /// <summary>
    /// gradcheck.py's <c>_check_outputs_same_dtype_and_shape</c>: the outputs at x − h and x + h have the same shapes
    /// and dtypes, else the differences mean nothing. PyTorch's message, its "on index {idx}" included (an f-string
    /// prefix missing in 1.13).
    /// </summary>
    internal static void SameShapeAndDtype(
        (long[] Shape, ScalarType Dtype)[] a,
        (long[] Shape, ScalarType Dtype)[] b,
        double h,
        long? index
    )
    {
        string on = index is null ? "" : "on index {idx} ";
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (!a[i].Shape.SequenceEqual(b[i].Shape))
                throw new ArgumentException(
                    $"Expected `func` to return outputs with the same shape when inputs are perturbed {on}by {PythonFloat(h)}, but got: shapes {Size(a[i].Shape)} and {Size(b[i].Shape)}."
                );
            if (a[i].Dtype != b[i].Dtype)
                throw new ArgumentException(
                    $"Expected `func` to return outputs with the same dtype when inputs are perturbed {on}by {PythonFloat(h)}, but got: dtypes {a[i].Dtype} and {b[i].Dtype}."
                );
        }
        if (a.Length != b.Length)
            throw new ArgumentException(
                $"Expected `func` to return the same number of outputs when inputs are perturbed {on}by {PythonFloat(h)}, but got {a.Length} and {b.Length}."
            );
    }

    static string Size(long[] shape) => $"torch.Size([{string.Join(", ", shape)}])";

    /// <summary>A float as Python's repr prints it (1e-06, 0.001, 1.0).</summary>
    internal static string PythonFloat(double v)
    {
        if (v == Math.Floor(v) && Math.Abs(v) < 1e16)
            return v.ToString("0.0", CultureInfo.InvariantCulture);
        string r = v.ToString("R", CultureInfo.InvariantCulture);
        if (!r.Contains('E'))
            return r;
        var (mantissa, exponent) = (
            r[..r.IndexOf('E')],
            int.Parse(r[(r.IndexOf('E') + 1)..], CultureInfo.InvariantCulture)
        );
        return $"{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
    }

    /// <summary>A view of element k (row-major) of <paramref name="x"/>, whatever its strides.</summary>
    internal static Tensor Element(Tensor x, long k)
    {
        var index = new long[x.dim()];
        for (int d = index.Length - 1; d >= 0; d--)
        {
            index[d] = k % x.shape[d];
            k /= x.shape[d];
        }
        var e = x;
        foreach (long i in index)
            e = e.select(0, i);
        return e;
    }

    /// <summary>The values of every floating-point output of fn, as float64 arrays.</summary>
    internal static double[][] Evaluate(Func<Tensor[], Tensor[]> fn, Tensor[] inputs) => Measure(fn, inputs).Values;

    /// <summary>The values of every floating-point output of fn, and the shape and dtype of every output.</summary>
    internal static (double[][] Values, (long[] Shape, ScalarType Dtype)[] Outputs) Measure(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs
    )
    {
        using var scope = NewDisposeScope();
        var all = fn(inputs);
        return ([.. all.Where(y => y.is_floating_point()).Select(Values)], [.. all.Select(y => (y.shape, y.dtype))]);
    }

    /// <summary>The elements as float64, row-major; a complex tensor's as (real, imaginary) pairs. The conjugate and
    /// negative bits are resolved first: <c>conj(w).imag</c> is a view of w's memory with the negative bit set, and
    /// reading its memory as it lies would give −Im(conj w).</summary>
    public static double[] Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        var d = t.detach().cpu().resolve_conj().resolve_neg();
        if (d.is_complex())
            d = d.view_as_real();
        return d.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    /// <summary>Writes <paramref name="values"/> (as <see cref="Values"/> gives them) back into <paramref
    /// name="x"/>.</summary>
    internal static void Restore(Tensor x, double[] values)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var target = x.is_complex() ? x.view_as_real() : x;
        target.copy_(Like(target, values));
    }

    /// <summary>
    /// Every tensor the checker makes from numbers goes through here: <paramref name="values"/> (float64, row-major) in
    /// the dtype and on the device of <paramref name="like"/>, shaped as it. (The other tensors it makes are
    /// <c>zeros</c>, <c>full</c> and <c>zeros_like</c> given the same dtype and device, and <see cref="Uniform"/>.)
    /// </summary>
    internal static Tensor Like(Tensor like, double[] values) =>
        tensor(values, like.shape, ScalarType.Float64).to(like.dtype, like.device);

    /// <summary>Uniform draws in [0, 1) shaped as <paramref name="like"/>, in its dtype and on its device: drawn on the
    /// CPU from <paramref name="gen"/> (a CPU generator, as PyTorch's), then moved.</summary>
    internal static Tensor Uniform(Tensor like, Generator gen) =>
        rand(like.shape, like.dtype, generator: gen).to(like.device);

    /// <summary>The real scalar view that a perturbation of element k moves: the element itself, or for a complex
    /// tensor its real or imaginary part (PyTorch perturbs a complex element by h and by h·i).</summary>
    internal static Tensor Coordinate(Tensor x, long k, bool imaginary) =>
        x.is_complex() ? Element(x.view_as_real(), 2 * k + (imaginary ? 1 : 0)) : Element(x, k);

    /// <summary>The real dtype of a complex one (complex128 → float64), or the dtype itself.</summary>
    internal static ScalarType RealDtype(ScalarType t) =>
        t switch
        {
            ScalarType.ComplexFloat64 => ScalarType.Float64,
            ScalarType.ComplexFloat32 => ScalarType.Float32,
            _ => t,
        };

    /// <summary>max |aᵢ − bᵢ| over the elements (NaN when one is NaN): the largest elementwise difference.</summary>
    public static double MaxAbs(double[] a, double[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++)
            m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    internal static double[,] Transpose(double[,] m)
    {
        var t = new double[m.GetLength(1), m.GetLength(0)];
        for (int r = 0; r < m.GetLength(0); r++)
        for (int c = 0; c < m.GetLength(1); c++)
            t[c, r] = m[r, c];
        return t;
    }

    internal static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
