using System.Globalization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Gradients;

/// <summary>
/// Settings of <see cref="GradCheck.Check"/>, with the defaults of <c>torch.autograd.gradcheck</c>: central differences
/// with step <see cref="Eps"/>, and an element passes when |analytical − numerical| ≤ <see cref="Atol"/> + <see cref="Rtol"/>·|numerical|.
/// </summary>
public sealed record GradCheckOptions
{
    /// <summary>The central-difference step h: (f(x + h eₖ) − f(x − h eₖ)) / 2h. PyTorch's default, 1e-6.</summary>
    public double Eps { get; init; } = 1e-6;
    /// <summary>Absolute tolerance, 1e-5 as PyTorch.</summary>
    public double Atol { get; init; } = 1e-5;
    /// <summary>Relative tolerance (against |numerical|), 1e-3 as PyTorch.</summary>
    public double Rtol { get; init; } = 1e-3;
    /// <summary>How far two runs of backward on the same input and grad_output may differ (0: bit-equal, PyTorch's default).</summary>
    public double NondetTol { get; init; }
    /// <summary>The seed of the random grad_outputs of <see cref="GradCheck.GradGradCheck"/>.</summary>
    public long Seed { get; init; }
}

/// <summary>
/// One (output i, input j) block: ∂yᵢ/∂xⱼ as a matrix with a row per element of yᵢ and a column per element of xⱼ
/// (both in row-major order), computed by central differences and by backward.
/// </summary>
/// <param name="MaxAbsError">max |analytical − numerical| over the block.</param>
/// <param name="MaxRelError">‖analytical − numerical‖∞ / ‖numerical‖∞ (the absolute error where the numerical block is zero); <see cref="GradientCheck.RelError"/>.</param>
/// <param name="Pass">Every element within atol + rtol·|numerical|.</param>
public sealed record JacobianBlock(int Output, int Input, long[] OutputShape, long[] InputShape, double[,] Numerical, double[,] Analytical,
    double MaxAbsError, double MaxRelError, bool Pass);

/// <summary>What <see cref="GradCheck.Check"/> found.</summary>
/// <param name="Blocks">Every (output, input) block, passing or not.</param>
/// <param name="Failures">One sentence per failure (a Jacobian mismatch, a non-reentrant backward, an input modified by backward, a gradient of the wrong shape).</param>
/// <param name="Warnings">Things PyTorch warns about (float32 inputs: central differences in single precision are noisy).</param>
public sealed record GradCheckResult(IReadOnlyList<JacobianBlock> Blocks, IReadOnlyList<string> Failures, IReadOnlyList<string> Warnings)
{
    public bool Pass => Failures.Count == 0;
    /// <summary>The blocks whose Jacobians differ.</summary>
    public IEnumerable<JacobianBlock> Mismatches => Blocks.Where(b => !b.Pass);
    public double MaxAbsError => Blocks.Select(b => b.MaxAbsError).DefaultIfEmpty(0).Max();
    public double MaxRelError => Blocks.Select(b => b.MaxRelError).DefaultIfEmpty(0).Max();
    /// <summary>The failures, one per line (empty when it passes).</summary>
    public string Message => string.Join(Environment.NewLine, Failures);
}

/// <summary>Thrown by <see cref="GradCheck.Assert"/> and <see cref="GradCheck.AssertGradGrad"/>; the message reads like PyTorch's GradcheckError.</summary>
public sealed class GradCheckException(string message, GradCheckResult result) : Exception(message)
{
    public GradCheckResult Result { get; } = result;
}

/// <summary>
/// <c>torch.autograd.gradcheck</c> and <c>gradgradcheck</c> for TorchSharp (which has neither): the Jacobian of every output with
/// respect to every input that requires grad, by central differences (the numerical Jacobian) and by backward with one-hot
/// grad_outputs (the analytical Jacobian), compared element by element. Backward runs twice per row and must give the same
/// row within <see cref="GradCheckOptions.NondetTol"/>; backward must leave the inputs as they were; an output that does not
/// depend on an input has a zero Jacobian. Inputs should be float64; float32 gives a warning, as PyTorch does.
/// </summary>
public static class GradCheck
{
    /// <summary>Checks <paramref name="fn"/>'s backward against central differences; see the class summary.</summary>
    /// <param name="fn">The function: its outputs are the tensors it returns (floating-point ones are checked).</param>
    /// <param name="inputs">The point; the Jacobian columns are taken for the inputs with requires_grad.</param>
    public static GradCheckResult Check(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, GradCheckOptions? options = null)
    {
        var o = options ?? new GradCheckOptions();
        var failures = new List<string>();
        var warnings = new List<string>();
        int[] diff = Enumerable.Range(0, inputs.Length).Where(j => inputs[j].requires_grad).ToArray();
        if (diff.Length == 0)
            throw new ArgumentException("gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=true", nameof(inputs));
        foreach (int j in diff)
        {
            if (!inputs[j].is_floating_point()) throw new ArgumentException($"input {j} requires grad but is {inputs[j].dtype}, not a floating-point tensor", nameof(inputs));
            if (inputs[j].dtype != ScalarType.Float64)
                warnings.Add($"Input #{j} requires gradient and is not a double precision floating point ({inputs[j].dtype}). As PyTorch warns: this check will likely fail if all the inputs are not of double precision floating point.");
        }

        var analytical = Analytical(fn, inputs, diff, o, failures, out long[][] outShapes);
        var blocks = new List<JacobianBlock>();
        foreach (int j in diff)
        {
            double[][,] numerical = NumericalJacobian(fn, inputs, j, o.Eps);
            for (int i = 0; i < outShapes.Length; i++)
            {
                double[,] n = numerical[i], a = analytical[i][Array.IndexOf(diff, j)];
                var block = Compare(i, j, outShapes[i], inputs[j].shape, n, a, o);
                blocks.Add(block);
                if (!block.Pass) failures.Add(MismatchMessage(block));
            }
        }
        return new GradCheckResult(blocks, failures, warnings);
    }

    /// <summary><see cref="Check"/>, then throws <see cref="GradCheckException"/> if it failed; returns true when it passed, as PyTorch's gradcheck.</summary>
    public static bool Assert(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, GradCheckOptions? options = null) => Raise(Check(fn, inputs, options));

    /// <summary>
    /// <c>torch.autograd.gradgradcheck</c>: checks the second derivatives of <paramref name="fn"/> by running <see cref="Check"/> on
    /// g(x, v) = ∂(vᵀ fn(x))/∂x, the backward pass built with create_graph, where the grad_outputs v are random (seeded by
    /// <see cref="GradCheckOptions.Seed"/>) unless <paramref name="gradOutputs"/> gives them; v is checked as an input too.
    /// </summary>
    public static GradCheckResult GradGradCheck(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, Tensor[]? gradOutputs = null, GradCheckOptions? options = null)
    {
        var o = options ?? new GradCheckOptions();
        Tensor[] outputs;
        using (var probe = NewDisposeScope()) outputs = fn(inputs).Select(y => zeros(y.shape, y.dtype).MoveToOuterDisposeScope()).ToArray();
        int[] diffOutputs = Enumerable.Range(0, outputs.Length).Where(i => outputs[i].is_floating_point()).ToArray();
        if (gradOutputs is null)
        {
            using var gen = new Generator((ulong)o.Seed);
            gradOutputs = diffOutputs.Select(i => randn(outputs[i].shape, outputs[i].dtype, generator: gen).requires_grad_(true)).ToArray();
        }
        else if (gradOutputs.Length != diffOutputs.Length)
            throw new ArgumentException($"expected {diffOutputs.Length} grad_outputs (one per floating-point output), got {gradOutputs.Length}", nameof(gradOutputs));
        int n = inputs.Length;
        int[] diffInputs = Enumerable.Range(0, n).Where(j => inputs[j].requires_grad).ToArray();

        Tensor[] FirstDerivatives(Tensor[] all)
        {
            using var _ = enable_grad();
            var xs = all[..n];
            var ys = fn(xs);
            var targets = diffOutputs.Where(i => ys[i].requires_grad).ToArray();
            if (targets.Length == 0) return diffInputs.Select(j => zeros_like(xs[j])).ToArray();
            var grads = autograd.grad(targets.Select(i => ys[i]).ToList(), diffInputs.Select(j => xs[j]).ToList(),
                targets.Select(i => all[n + Array.IndexOf(diffOutputs, i)]).ToList(), retain_graph: true, create_graph: true, allow_unused: true);
            return diffInputs.Select((j, k) => grads[k].IsInvalid ? zeros_like(xs[j]) : grads[k]).ToArray();
        }
        return Check(FirstDerivatives, [.. inputs, .. gradOutputs], o);
    }

    /// <summary><see cref="GradGradCheck"/>, then throws <see cref="GradCheckException"/> if it failed.</summary>
    public static bool AssertGradGrad(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, Tensor[]? gradOutputs = null, GradCheckOptions? options = null) =>
        Raise(GradGradCheck(fn, inputs, gradOutputs, options));

    static bool Raise(GradCheckResult r) => r.Pass ? true : throw new GradCheckException(r.Message, r);

    /// <summary>
    /// The numerical Jacobians of every output with respect to input <paramref name="j"/>: column k is
    /// (fn(x + h eₖ) − fn(x − h eₖ)) / 2h, with xⱼ perturbed in place (under no_grad) and restored.
    /// </summary>
    public static double[][,] NumericalJacobian(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, int j, double eps = 1e-6) =>
        NumericalJacobian(fn, inputs, j, k => eps);

    /// <summary>As <see cref="NumericalJacobian(Func{Tensor[], Tensor[]}, Tensor[], int, double)"/>, with a step per element (given its value).</summary>
    public static double[][,] NumericalJacobian(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, int j, Func<double, double> step)
    {
        using var _ = no_grad();
        var x = inputs[j];
        long columns = x.numel();
        double[][]? plus = null;
        double[][,]? jac = null;
        for (long k = 0; k < columns; k++)
        {
            var element = Element(x, k);
            double keep = element.to_type(ScalarType.Float64).item<double>();
            double h = step(keep);
            element.fill_(keep + h);
            plus = Evaluate(fn, inputs);
            element.fill_(keep - h);
            double[][] minus = Evaluate(fn, inputs);
            element.fill_(keep);
            jac ??= plus.Select(y => new double[y.Length, columns]).ToArray();
            for (int i = 0; i < plus.Length; i++)
                for (int r = 0; r < plus[i].Length; r++)
                    jac[i][r, k] = (plus[i][r] - minus[i][r]) / (2 * h);
        }
        return jac ?? Evaluate(fn, inputs).Select(y => new double[y.Length, 0]).ToArray();
    }

    /// <summary>A view of element k (row-major) of <paramref name="x"/>, whatever its strides.</summary>
    static Tensor Element(Tensor x, long k)
    {
        var index = new long[x.dim()];
        for (int d = index.Length - 1; d >= 0; d--) { index[d] = k % x.shape[d]; k /= x.shape[d]; }
        var e = x;
        foreach (long i in index) e = e.select(0, i);
        return e;
    }

    /// <summary>The values of every floating-point output of fn, as float64 arrays.</summary>
    static double[][] Evaluate(Func<Tensor[], Tensor[]> fn, Tensor[] inputs)
    {
        using var scope = NewDisposeScope();
        return fn(inputs).Where(y => y.is_floating_point()).Select(GradientCheck.Values).ToArray();
    }

    /// <summary>
    /// The analytical Jacobians [output][differentiable input]: row r of ∂yᵢ/∂xⱼ is the gradient of xⱼ for grad_output eᵣ.
    /// Each row is taken twice (reentrancy); the inputs are compared before and after backward.
    /// </summary>
    static double[][][,] Analytical(Func<Tensor[], Tensor[]> fn, Tensor[] inputs, int[] diff, GradCheckOptions o, List<string> failures, out long[][] outShapes)
    {
        using var scope = NewDisposeScope();
        double[][] before = inputs.Select(GradientCheck.Values).ToArray();
        Tensor[] outputs;
        using (enable_grad()) outputs = fn(inputs).Where(y => y.is_floating_point()).ToArray();
        outShapes = outputs.Select(y => y.shape).ToArray();
        var xs = diff.Select(j => inputs[j]).ToList();
        var result = new double[outputs.Length][][,];
        bool reentrant = true;
        for (int i = 0; i < outputs.Length; i++)
        {
            var y = outputs[i];
            long rows = y.numel();
            result[i] = diff.Select(j => new double[rows, inputs[j].numel()]).ToArray();
            if (!y.requires_grad) continue;   // no path to any input: a zero Jacobian
            for (long r = 0; r < rows; r++)
            {
                using var rowScope = NewDisposeScope();
                var e = zeros(y.shape, y.dtype);
                Element(e, r).fill_(1);
                var first = Backward(y, xs, e, inputs, diff, failures, i);
                if (first is null) return result;
                for (int k = 0; k < diff.Length; k++)
                    for (int c = 0; c < first[k].Length; c++) result[i][k][r, c] = first[k][c];
                if (r == 0 && Modified(inputs, before, failures)) return result;
                var second = Backward(y, xs, e, inputs, diff, failures, i);
                if (second is null) return result;
                for (int k = 0; k < diff.Length && reentrant; k++)
                    if (GradientCheck.MaxAbs(first[k], second[k]) > o.NondetTol)
                    {
                        reentrant = false;
                        failures.Add("Backward is not reentrant, i.e., running backward with same input and grad_output multiple times gives different values, " +
                            $"although analytical gradient matches numerical gradient. The tolerance for nondeterminism was {o.NondetTol.ToString(CultureInfo.InvariantCulture)} " +
                            $"(output {i}, input {diff[k]}: the two runs differ by {GradientCheck.MaxAbs(first[k], second[k]).ToString("G3", CultureInfo.InvariantCulture)}).");
                    }
            }
        }
        Modified(inputs, before, failures);
        return result;
    }

    /// <summary>One backward: the gradient of every differentiable input for grad_output <paramref name="e"/> (zeros where unused); null if backward threw.</summary>
    static double[][]? Backward(Tensor y, List<Tensor> xs, Tensor e, Tensor[] inputs, int[] diff, List<string> failures, int output)
    {
        IList<Tensor> grads;
        try { grads = autograd.grad([y], xs, [e], retain_graph: true, allow_unused: true); }
        catch (Exception ex)
        {
            failures.Add($"Backward of output {output} failed: {ex.Message.Split('\n')[0].Trim()}");
            return null;
        }
        var rows = new double[diff.Length][];
        for (int k = 0; k < diff.Length; k++)
        {
            var x = inputs[diff[k]];
            if (grads[k].IsInvalid) { rows[k] = new double[x.numel()]; continue; }
            if (!grads[k].shape.SequenceEqual(x.shape))
            {
                failures.Add($"Gradient has incorrect shape for input {diff[k]}: expected [{string.Join(", ", x.shape)}], got [{string.Join(", ", grads[k].shape)}]");
                return null;
            }
            rows[k] = GradientCheck.Values(grads[k]);
        }
        return rows;
    }

    /// <summary>True (with a failure) if an input's values differ from <paramref name="before"/>; the input is restored.</summary>
    static bool Modified(Tensor[] inputs, double[][] before, List<string> failures)
    {
        bool any = false;
        for (int j = 0; j < inputs.Length; j++)
        {
            double[] now = GradientCheck.Values(inputs[j]);
            if (now.Length == before[j].Length && now.SequenceEqual(before[j])) continue;
            any = true;
            failures.Add($"Backward modified input {j} (by up to {GradientCheck.MaxAbs(now, before[j]).ToString("G3", CultureInfo.InvariantCulture)}): backward must not change its inputs");
            using var _ = no_grad();
            inputs[j].copy_(tensor(before[j], inputs[j].shape, ScalarType.Float64).to_type(inputs[j].dtype));
        }
        return any;
    }

    static JacobianBlock Compare(int i, int j, long[] outShape, long[] inShape, double[,] n, double[,] a, GradCheckOptions o)
    {
        double maxAbs = 0, maxN = 0;
        bool pass = true;
        for (int r = 0; r < n.GetLength(0); r++)
            for (int c = 0; c < n.GetLength(1); c++)
            {
                double d = Math.Abs(a[r, c] - n[r, c]);
                if (!(d <= o.Atol + o.Rtol * Math.Abs(n[r, c]))) pass = false;   // NaN fails too
                maxAbs = Math.Max(maxAbs, double.IsNaN(d) ? double.PositiveInfinity : d);
                maxN = Math.Max(maxN, Math.Abs(n[r, c]));
            }
        return new JacobianBlock(i, j, outShape, inShape, n, a, maxAbs, maxN == 0 ? maxAbs : maxAbs / maxN, pass);
    }

    /// <summary>PyTorch's wording: "Jacobian mismatch for output i with respect to input j, numerical: … analytical: …".</summary>
    public static string MismatchMessage(JacobianBlock b) =>
        $"Jacobian mismatch for output {b.Output} with respect to input {b.Input},{Environment.NewLine}" +
        $"numerical:{Environment.NewLine}{Format(b.Numerical)}{Environment.NewLine}analytical:{Environment.NewLine}{Format(b.Analytical)}" +
        $"{Environment.NewLine}(max abs error {b.MaxAbsError.ToString("G3", CultureInfo.InvariantCulture)}, rows: elements of output {b.Output}, columns: elements of input {b.Input})";

    /// <summary>A matrix as rows of numbers, at most 8 × 8 shown (with "…" where cut).</summary>
    public static string Format(double[,] m, int max = 8)
    {
        var sb = new StringBuilder();
        int rows = m.GetLength(0), cols = m.GetLength(1);
        for (int r = 0; r < Math.Min(rows, max); r++)
        {
            sb.Append(r == 0 ? "[[" : " [");
            for (int c = 0; c < Math.Min(cols, max); c++) sb.Append(c == 0 ? "" : ", ").Append(m[r, c].ToString("0.0000", CultureInfo.InvariantCulture).PadLeft(8));
            if (cols > max) sb.Append(", …");
            sb.Append(r == rows - 1 || r == max - 1 ? "]" : "],").Append(r == Math.Min(rows, max) - 1 ? (rows > max ? " …]" : "]") : Environment.NewLine);
        }
        return rows == 0 ? "[]" : sb.ToString();
    }
}
