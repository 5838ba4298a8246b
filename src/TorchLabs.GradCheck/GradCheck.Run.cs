namespace TorchLabs.Gradients;

public static partial class GradCheck
{
    /// <summary>One check of one function at one point: the slow (whole Jacobians) and the fast (vᵀJu) modes of
    /// gradcheck.py.</summary>
    /// <param name="part">For a function with complex outputs: which part of them fn gives ("real" or "imaginary"),
    /// else null.</param>
    /// <param name="complexOutputs">The indices, among the outputs that require grad, of the complex ones.</param>
    /// <param name="gradOutputTests">Run the tests of grad_outputs (zero, undefined) after the Jacobians; off for the
    /// real and imaginary parts of a complex function, which PyTorch tests once, after both, on the function
    /// itself.</param>
    sealed partial class Run(
        Func<Tensor[], Tensor[]> fn,
        Tensor[] inputs,
        GradCheckOptions o,
        string[]? names,
        string? part = null,
        int[]? complexOutputs = null,
        bool gradOutputTests = true
    )
    {
        /// <summary>Positions of the inputs that require grad; input k in messages is diffIn[k].</summary>
        readonly int[] diffIn = Differentiable(inputs);
        readonly List<string> failures = [];
        double[][] before = [];

        string InputLabel(int k) => names is null ? $"input {k}" : $"input {k} ({names[diffIn[k]]})";

        bool IsComplex(int k) => inputs[diffIn[k]].is_complex();

        /// <summary>gradcheck.py's <c>_get_notallclose_msg</c> prefix: which part of a complex output a mismatch is in
        /// (PyTorch looks up the output's index among those that require grad in complex_indices).</summary>
        string PartPrefix(int output) =>
            part is not null && (complexOutputs ?? []).Contains(output)
                ? $"While considering the {part} part of complex outputs only, "
                : "";

        /// <summary>fn's outputs with their graph, the positions of the floating-point ones and of those that require
        /// grad.</summary>
        (Tensor[] All, int[] FloatPos, int[] DiffPos) Outputs()
        {
            Tensor[] all;
            using (enable_grad())
                all = fn(inputs);
            return (
                all,
                Enumerable.Range(0, all.Length).Where(i => all[i].is_floating_point()).ToArray(),
                Enumerable.Range(0, all.Length).Where(i => all[i].requires_grad).ToArray()
            );
        }

        /// <summary>gradcheck.py's <c>_slow_gradcheck</c>, then <c>_test_backward_mul_by_grad_output</c>.</summary>
        public GradCheckResult Slow(List<string> warnings)
        {
            // Central differences first: they perturb the inputs in place, which must not happen under a live graph.
            var numerical = diffIn.Select(j => NumericalJacobians(fn, inputs, j, o.Eps)).ToArray();
            // A complex input: ds/dy along the imaginary parts too; the numerical entry is ds/dx + i·ds/dy.
            var numericalIm = diffIn
                .Select(j =>
                    inputs[j].is_complex() ? NumericalJacobians(fn, inputs, j, _ => o.Eps, imaginary: true) : null
                )
                .ToArray();
            before = inputs.Select(Values).ToArray();
            var (all, floatPos, diffPos) = Outputs();
            var blocks = new List<JacobianBlock>();
            if (diffPos.Length == 0)
                return NoDifferentiableOutputs(all, floatPos, numerical, numericalIm, warnings);

            bool backwardRan = true;
            var pending = new List<(int Failure, int Block, int FloatIndex)>();
            for (int i = 0; i < diffPos.Length && backwardRan; i++)
            {
                var y = all[diffPos[i]];
                var first = AnalyticalRows(y, i, checkInputs: i == 0);
                var second = first is null ? null : AnalyticalRows(y, i, checkInputs: false);
                if (first is null || second is null)
                {
                    backwardRan = false;
                    break;
                }
                double drift = diffIn
                    .Select(
                        (_, k) =>
                            Math.Max(
                                MaxAbs(Flat(first.Value.Re[k]), Flat(second.Value.Re[k])),
                                first.Value.Im[k] is { } im ? MaxAbs(Flat(im), Flat(second.Value.Im[k]!)) : 0
                            )
                    )
                    .DefaultIfEmpty(0)
                    .Max();
                CheckReentrant(i, drift);
                int f = Array.IndexOf(floatPos, diffPos[i]);
                for (int k = 0; k < diffIn.Length; k++)
                {
                    var block = Compare(
                        i,
                        k,
                        diffPos[i],
                        y.shape,
                        numerical[k][f],
                        first.Value.Re[k],
                        numericalIm[k]?[f],
                        first.Value.Im[k]
                    );
                    blocks.Add(block);
                    if (!block.Pass)
                    {
                        pending.Add((failures.Count, blocks.Count - 1, f));
                        failures.Add("");
                    }
                }
            }
            if (backwardRan && gradOutputTests)
                MulByGradOutput(all, diffPos);
            if (backwardRan && gradOutputTests)
                UndefinedGrad(all, diffPos);
            Modified();
            DisposeOutputs(all);
            // The kinks are probed by perturbing the inputs, which only now no graph holds; then the messages are
            // written.
            foreach (var (failure, b, f) in pending)
            {
                var block = blocks[b];
                if (o.DiagnoseKinks && !IsComplex(block.Input))
                {
                    var (kinks, notes) = Judge(block.Input, f, Mismatching(block), block.Analytical);
                    blocks[b] = block = block with
                    {
                        Kinks = kinks,
                        SmoothMismatches = block.SmoothMismatches - kinks.Count,
                        Notes = notes,
                    };
                }
                failures[failure] =
                    (names is null ? "" : names[diffIn[block.Input]] + ": ")
                    + PartPrefix(block.Output)
                    + MismatchMessage(block, InputLabel(block.Input), o.MaxPrinted);
            }
            return new GradCheckResult(blocks, failures.ToList(), warnings);
        }

        /// <summary>Only the tests of grad_outputs (gradcheck.py's <c>_test_backward_mul_by_grad_output</c> and
        /// <c>_test_undefined_backward_mode</c>), on fn's own outputs: what PyTorch runs after checking both parts of a
        /// complex function.</summary>
        public GradCheckResult GradOutputTests(List<string> warnings)
        {
            before = inputs.Select(Values).ToArray();
            var (all, _, diffPos) = Outputs();
            MulByGradOutput(all, diffPos);
            UndefinedGrad(all, diffPos);
            Modified();
            DisposeOutputs(all);
            return new GradCheckResult([], failures.ToList(), warnings);
        }

        /// <summary>gradcheck.py's <c>_check_no_differentiable_outputs</c>: with no output requiring grad, the
        /// numerical Jacobian must be zero.</summary>
        GradCheckResult NoDifferentiableOutputs(
            Tensor[] all,
            int[] floatPos,
            double[][][,] numerical,
            IReadOnlyList<double[][,]?> numericalIm,
            List<string> warnings
        )
        {
            var blocks = new List<JacobianBlock>();
            for (int f = 0; f < floatPos.Length; f++)
            for (int k = 0; k < diffIn.Length; k++)
            {
                var n = numerical[k][f];
                var nIm = numericalIm[k]?[f];
                var zero = new double[n.GetLength(0), n.GetLength(1)];
                var block = Compare(f, k, floatPos[f], all[floatPos[f]].shape, n, zero, nIm, nIm is null ? null : zero);
                blocks.Add(block);
                if (n.Cast<double>().Concat(nIm?.Cast<double>() ?? []).Any(v => v != 0))
                    failures.Add(
                        $"Numerical gradient for function expected to be zero{Environment.NewLine}no output requires grad (none has a graph back to the inputs), yet output {floatPos[f]} moves with {InputLabel(k)} by up to {G(block.MaxAbsError)} per unit. A detach() or a computation outside autograd cuts the graph."
                    );
            }
            return new GradCheckResult(blocks, failures.Take(1).ToList(), warnings);
        }

        /// <summary>
        /// The analytical Jacobians of output <paramref name="i"/> [input k][input element, output element]: column r
        /// is the gradient for grad_output eᵣ. Null (with a failure) when backward throws or returns a gradient of the
        /// wrong shape.
        /// </summary>
        (double[][,] Re, IReadOnlyList<double[,]?> Im)? AnalyticalRows(Tensor y, int i, bool checkInputs)
        {
            long cols = y.numel();
            var xs = diffIn.Select(j => inputs[j]).ToList();
            var jac = diffIn.Select(j => new double[inputs[j].numel(), cols]).ToArray();
            IReadOnlyList<double[,]?> jacIm =
            [
                .. diffIn.Select(j => inputs[j].is_complex() ? new double[inputs[j].numel(), cols] : null),
            ];
            for (long r = 0; r < cols; r++)
            {
                using var scope = NewDisposeScope();
                var e = zeros(y.shape, y.dtype, y.device);
                Element(e, r).fill_(1);
                var grads = Grad([y], xs, [e], i);
                if (grads is null)
                    return null;
                for (int k = 0; k < diffIn.Length; k++)
                {
                    if (grads[k] is not { IsInvalid: false } gk)
                        continue;
                    if (!gk.shape.SequenceEqual(inputs[diffIn[k]].shape))
                    {
                        failures.Add(
                            $"Analytical gradient has incorrect size{Environment.NewLine}for {InputLabel(k)} of shape [{string.Join(", ", inputs[diffIn[k]].shape)}] backward returned shape [{string.Join(", ", gk.shape)}]."
                        );
                        return null;
                    }
                    if (o.CheckGradDtypes && gk.dtype != inputs[diffIn[k]].dtype)
                    {
                        failures.Add(
                            $"Gradient has dtype mismatch{Environment.NewLine}for {InputLabel(k)} of dtype {inputs[diffIn[k]].dtype} backward returned {gk.dtype}."
                        );
                        return null;
                    }
                    var (re, im) = Parts(gk, inputs[diffIn[k]]);
                    for (int c = 0; c < re.Length; c++)
                        jac[k][c, r] = re[c];
                    if (jacIm[k] is { } jm)
                        for (int c = 0; c < re.Length; c++)
                            jm[c, r] = im![c];
                }
                if (checkInputs && r == 0 && Modified())
                    return null;
            }
            return (jac, jacIm);
        }

        Tensor?[]? Grad(IList<Tensor> ys, IList<Tensor> xs, IList<Tensor> gs, int? output)
        {
            try
            {
                return SafeGrad.Grad(ys, xs, gs, retainGraph: true);
            }
            catch (Exception ex)
            {
                string which = output is null ? "the outputs" : $"output {output}";
                failures.Add($"Backward of {which} failed: {ex.Message.Split('\n')[0].Trim()}");
                return null;
            }
        }

        /// <summary>
        /// gradcheck.py's <c>_test_backward_mul_by_grad_output</c>: backward with zero grad_outputs must give zero
        /// gradients of the inputs' shapes (a backward that ignores grad_output passes the Jacobian test on a
        /// one-element output, not this one). PyTorch's <c>_test_undefined_backward_mode</c> sends undefined
        /// grad_outputs, which a TorchSharp caller cannot make; a custom Function receives them materialised as zeros,
        /// which is this test.
        /// </summary>
        void MulByGradOutput(Tensor[] all, int[] diffPos)
        {
            using var scope = NewDisposeScope();
            var ys = diffPos.Select(p => all[p]).ToList();
            var grads = Grad(ys, diffIn.Select(j => inputs[j]).ToList(), ys.Select(y => zeros_like(y)).ToList(), null);
            if (grads is null)
                return;
            for (int k = 0; k < diffIn.Length; k++)
            {
                var g = grads[k];
                if (g is not { IsInvalid: false })
                    continue;
                var x = inputs[diffIn[k]];
                double[] values = Values(g);
                if (values.Any(v => v != 0))
                {
                    failures.Add(
                        $"backward not multiplied by grad_output{Environment.NewLine}with zero grad_outputs the gradient of {InputLabel(k)} is not zero (up to {G(values.Max(Math.Abs))}); backward must scale by grad_output (g · ∂y/∂x), not return ∂y/∂x."
                    );
                    return;
                }
                if (g.dtype != x.dtype)
                {
                    failures.Add($"grad is incorrect type: {g.dtype} for {InputLabel(k)} of type {x.dtype}");
                    return;
                }
                if (!g.shape.SequenceEqual(x.shape))
                {
                    failures.Add($"grad is incorrect size for {InputLabel(k)}");
                    return;
                }
            }
        }

        /// <summary>
        /// gradcheck.py's <c>_test_undefined_backward_mode</c> (with <see
        /// cref="GradCheckOptions.CheckUndefinedGrad"/>): backward with every output's gradient undefined (each output
        /// passed through <see cref="UndefinedGradFunction"/>, whose backward returns an undefined gradient, as
        /// PyTorch's UndefinedGrad), then, with two outputs or more, with one output's gradient undefined at a time and
        /// zeros for the others. Backward must not fail, and every input gradient must be undefined or zero.
        /// </summary>
        void UndefinedGrad(Tensor[] all, int[] diffPos)
        {
            if (!o.CheckUndefinedGrad || diffPos.Length == 0)
                return;
            var xs = diffIn.Select(j => inputs[j]).ToList();
            var undefined = new List<Func<int, bool>> { _ => true };
            if (diffPos.Length > 1)
                undefined.AddRange(
                    Enumerable.Range(0, diffPos.Length).Select(left => (Func<int, bool>)(i => i == left))
                );
            foreach (var isUndefined in undefined)
            {
                using var scope = NewDisposeScope();
                var ys = diffPos
                    .Select((p, i) => isUndefined(i) ? UndefinedGradFunction.apply(all[p]) : all[p])
                    .ToList();
                Tensor?[] grads;
                try
                {
                    grads = SafeGrad.Grad(ys, xs, [.. ys.Select(y => zeros_like(y))], retainGraph: true);
                }
                catch (Exception ex)
                {
                    failures.Add(
                        $"Expected backward function to handle undefined output grads. Please look at \"Notes about undefined output gradients\" in \"tools/autograd/derivatives.yaml\"{Environment.NewLine}({ex.Message.Split('\n')[0].Trim()})"
                    );
                    return;
                }
                if (grads.Any(g => g is { IsInvalid: false } && Values(g).Any(v => v != 0)))
                {
                    failures.Add(
                        $"Expected all input grads to be undefined or zero when all output grads are undefined or zero. Please look at \"Notes about undefined output gradients\" in \"tools/autograd/derivatives.yaml\""
                    );
                    return;
                }
            }
        }

        /// <summary>True (with a failure) if an input's values changed since the check began; the input is
        /// restored.</summary>
        bool Modified()
        {
            bool any = false;
            for (int j = 0; j < inputs.Length && j < before.Length; j++)
            {
                double[] now = Values(inputs[j]);
                if (now.Length == before[j].Length && now.SequenceEqual(before[j]))
                    continue;
                any = true;
                failures.Add(
                    $"Backward modified input {j} (by up to {G(MaxAbs(now, before[j]))}): backward must not change its inputs."
                );
                Restore(inputs[j], before[j]);
            }
            return any;
        }

        /// <summary>One block; for a complex input <paramref name="nIm"/> and <paramref name="aIm"/> hold the imaginary
        /// parts, and distances are moduli |a − n| of complex numbers.</summary>
        JacobianBlock Compare(
            int i,
            int k,
            int outPos,
            long[] outShape,
            double[,] n,
            double[,] a,
            double[,]? nIm = null,
            double[,]? aIm = null
        )
        {
            double maxAbs = 0,
                maxN = 0;
            for (int r = 0; r < n.GetLength(0); r++)
            for (int c = 0; c < n.GetLength(1); c++)
            {
                double d = Modulus(a[r, c] - n[r, c], (aIm?[r, c] ?? 0) - (nIm?[r, c] ?? 0));
                maxAbs = Math.Max(maxAbs, double.IsNaN(d) ? double.PositiveInfinity : d);
                maxN = Math.Max(maxN, Modulus(n[r, c], nIm?[r, c] ?? 0));
            }
            var block = new JacobianBlock(
                i,
                k,
                outPos,
                diffIn[k],
                outShape,
                inputs[diffIn[k]].shape,
                n,
                a,
                maxAbs,
                maxN == 0 ? maxAbs : maxAbs / maxN,
                true,
                [],
                0
            )
            {
                NumericalImaginary = nIm,
                AnalyticalImaginary = aIm,
                Part = part,
            };
            int bad = Mismatching(block).Count;
            return block with { Pass = bad == 0, SmoothMismatches = bad };
        }

        /// <summary>Disposes the function's outputs, but never one that is an input itself (a function may return its
        /// input unchanged: that tensor is the caller's).</summary>
        void DisposeOutputs(IEnumerable<Tensor> outputs)
        {
            foreach (var t in outputs.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
                if (!t.IsInvalid && !inputs.Any(x => ReferenceEquals(x, t) || x.Handle == t.Handle))
                    t.Dispose();
        }

        /// <summary>
        /// torch.isclose(analytical, numerical, rtol, atol) with equal_nan=False, as PyTorch's gradcheck compares: NaN
        /// is never close; an infinity is close only to the same infinity; otherwise |a − n| ≤ atol + rtol·|n|.
        /// (Without the first two rules a numerical ∞ passes any finite analytical value, since ∞ ≤ ∞.)
        /// </summary>
        internal static bool IsClose(double analytical, double numerical, double atol, double rtol) =>
            IsClose(analytical, 0, numerical, 0, atol, rtol);

        /// <summary>torch.isclose of two complex numbers: NaN in either part is never close, an infinite part only to
        /// the same number, else |a − n| ≤ atol + rtol·|n| with moduli.</summary>
        internal static bool IsClose(double aRe, double aIm, double nRe, double nIm, double atol, double rtol)
        {
            if (double.IsNaN(aRe) || double.IsNaN(aIm) || double.IsNaN(nRe) || double.IsNaN(nIm))
                return false;
            if (double.IsInfinity(aRe) || double.IsInfinity(aIm) || double.IsInfinity(nRe) || double.IsInfinity(nIm))
                return aRe == nRe && aIm == nIm;
            return Modulus(aRe - nRe, aIm - nIm) <= atol + rtol * Modulus(nRe, nIm);
        }

        /// <summary>|re + i·im| without overflow (hypot).</summary>
        static double Modulus(double re, double im) => im == 0 ? Math.Abs(re) : double.Hypot(re, im);

        /// <summary>The (input element, output element) entries outside atol + rtol·|numerical| (NaN
        /// included).</summary>
        List<(long Row, long Col)> Mismatching(JacobianBlock b)
        {
            var bad = new List<(long Row, long Col)>();
            for (int r = 0; r < b.Numerical.GetLength(0); r++)
            for (int c = 0; c < b.Numerical.GetLength(1); c++)
                if (
                    !IsClose(
                        b.Analytical[r, c],
                        b.AnalyticalImaginary?[r, c] ?? 0,
                        b.Numerical[r, c],
                        b.NumericalImaginary?[r, c] ?? 0,
                        o.Atol,
                        o.Rtol
                    )
                )
                    bad.Add((r, c));
            return bad;
        }

        /// <summary>gradcheck.py's <c>_check_jacobians_equal</c>: (j1 − j2).abs().max() &gt; nondet_tol. A NaN or
        /// infinite entry makes the difference NaN, which is not greater: it is left to the Jacobian comparison, as
        /// PyTorch leaves it.</summary>
        bool Drifted(double drift) => drift > o.NondetTol;

        /// <summary>Output <paramref name="i"/>'s two backward runs, <paramref name="drift"/> apart: PyTorch's
        /// failure when they drifted.</summary>
        void CheckReentrant(int i, double drift)
        {
            if (Drifted(drift))
                failures.Add(
                    NotReentrant(o.NondetTol)
                        + $"{Environment.NewLine}(output {i}: the two runs differ by up to {G(drift)})"
                );
        }

        /// <summary>PyTorch's sentence, word for word (its missing space included), the tolerance as Python prints a
        /// float.</summary>
        static string NotReentrant(double tol) =>
            $"Backward is not reentrant, i.e., running backward with same input and grad_output multiple times gives different values, although analytical gradient matches numerical gradient.The tolerance for nondeterminism was {PythonFloat(tol)}.";

        static double[] Flat(double[,] m) => m.Cast<double>().ToArray();

        /// <summary>
        /// gradcheck.py's <c>_fast_gradcheck</c>: random unit u per input and v per output (float32 draws from a
        /// generator seeded as PyTorch's, converted), J u by central differences along u, vᵀJ by backward (twice:
        /// reentrancy), and
        /// |vᵀJu (backward) − vᵀJu (differences)| ≤ atol·Σu·Σv + rtol·|vᵀJu (differences)|. A failing pair re-runs the
        /// slow check.
        /// </summary>
        public GradCheckResult Fast(List<string> warnings)
        {
            var (all, floatPos, diffPos) = Outputs();
            using var gen = new Generator(o.FastModeSeed);
            // gradcheck.py's _make_vectors: u per input (and a second one, for the imaginary parts, right after it when
            // the input is complex), then v per output; all real.
            var u = new double[diffIn.Length][];
            var uIm = new double[]?[diffIn.Length];
            for (int k = 0; k < diffIn.Length; k++)
            {
                u[k] = UnitVector(inputs[diffIn[k]], gen);
                if (IsComplex(k))
                    uIm[k] = UnitVector(inputs[diffIn[k]], gen);
            }
            var v = diffPos.Select(p => UnitVector(all[p], gen)).ToArray();
            DisposeOutputs(all);
            // J u for every input and floating-point output, by central differences along u (and along i·u_im: ds/dy).
            var Ju = diffIn.Select((j, k) => DirectionalDifference(j, u[k], imaginary: false)).ToArray();
            var JuIm = diffIn
                .Select((j, k) => uIm[k] is { } w ? DirectionalDifference(j, w, imaginary: true) : null)
                .ToArray();
            if (diffPos.Length == 0)
            {
                double worst = Ju.Concat(JuIm.OfType<double[][]>())
                    .SelectMany(r => r)
                    .SelectMany(r => r)
                    .Select(Math.Abs)
                    .DefaultIfEmpty(0)
                    .Max();
                if (worst > o.NondetTol)
                    failures.Add(
                        $"Numerical gradient for function expected to be zero{Environment.NewLine}no output requires grad, yet J u is up to {G(worst)}."
                    );
                return new GradCheckResult([], failures.ToList(), warnings);
            }
            before = inputs.Select(Values).ToArray();
            (all, _, _) = Outputs();
            var vJ = new (double[] Re, double[]? Im)[diffPos.Length][];
            for (int i = 0; i < diffPos.Length; i++)
            {
                using var scope = NewDisposeScope();
                var y = all[diffPos[i]];
                var gy = Like(y, v[i]);
                var first = Grad([y], diffIn.Select(j => inputs[j]).ToList(), [gy], i);
                var second = first is null ? null : Grad([y], diffIn.Select(j => inputs[j]).ToList(), [gy], i);
                if (first is null || second is null)
                    return new GradCheckResult([], failures.ToList(), warnings);
                vJ[i] = diffIn.Select((j, k) => Parts(first[k], inputs[j])).ToArray();
                double drift = diffIn
                    .Select(
                        (j, k) =>
                        {
                            var again = Parts(second[k], inputs[j]);
                            return Math.Max(
                                MaxAbs(vJ[i][k].Re, again.Re),
                                again.Im is null ? 0 : MaxAbs(vJ[i][k].Im!, again.Im)
                            );
                        }
                    )
                    .DefaultIfEmpty(0)
                    .Max();
                CheckReentrant(i, drift);
                if (i == 0 && Modified())
                    return new GradCheckResult([], failures.ToList(), warnings);
            }
            var fast = new List<FastBlock>();
            var failing = new List<FastBlock>();
            for (int k = 0; k < diffIn.Length; k++)
            for (int i = 0; i < diffPos.Length; i++)
            {
                int f = Array.IndexOf(floatPos, diffPos[i]);
                // A complex input: vᵀJu = v·(ds/dx u) + i v·(ds/dy u_im) by differences; Re(vJ)·u + i Im(vJ)·u_im by
                // backward.
                double numerical = Dot(v[i], Ju[k][f]),
                    numericalIm = JuIm[k] is { } d ? Dot(v[i], d[f]) : 0;
                double analytical = Dot(vJ[i][k].Re, u[k]),
                    analyticalIm = uIm[k] is { } w ? Dot(vJ[i][k].Im!, w) : 0;
                double atol = o.Atol * u[k].Sum() * v[i].Sum();
                bool pass = IsClose(analytical, analyticalIm, numerical, numericalIm, atol, o.Rtol);
                var block = new FastBlock(i, k, numerical, analytical, atol, pass, u[k], v[i])
                {
                    NumericalImaginary = uIm[k] is null ? null : numericalIm,
                    AnalyticalImaginary = uIm[k] is null ? null : analyticalIm,
                    UImaginary = uIm[k],
                    Part = part,
                };
                fast.Add(block);
                if (!pass)
                    failing.Add(block);
            }
            // gradcheck.py raises reentrancy failures while computing vᵀJ, before comparing; the tests below come
            // after.
            int early = failures.Count;
            if (gradOutputTests)
                MulByGradOutput(all, diffPos);
            if (gradOutputTests)
                UndefinedGrad(all, diffPos);
            Modified();
            if (failing.Count == 0)
                return new GradCheckResult([], failures.ToList(), warnings) { FastBlocks = fast };
            var slow = new Run(fn, inputs, o with { FastMode = false }, names, part, complexOutputs).Slow([]);
            var messages = failing.Select(b =>
                FastMismatchMessage(b, slow.Blocks.FirstOrDefault(s => s.Output == b.Output && s.Input == b.Input))
            );
            return new GradCheckResult(
                slow.Blocks,
                [.. failures.Take(early), .. messages, .. failures.Skip(early)],
                warnings
            )
            {
                FastBlocks = fast,
            };
        }

        /// <summary>A gradient of input x as real and imaginary parts (Im null for a real input; zeros where the
        /// gradient is undefined, or where a complex input got a real gradient). Slow mode's rows and fast mode's vᵀJ
        /// both read gradients through it.</summary>
        static (double[] Re, double[]? Im) Parts(Tensor? g, Tensor x)
        {
            long n = x.numel();
            double[]? im = x.is_complex() ? new double[n] : null;
            if (g is not { IsInvalid: false })
                return (new double[n], im);
            double[] values = Values(g);
            if (!g.is_complex())
                return (values, im);
            var re = new double[n];
            for (long c = 0; c < n; c++)
                (re[c], im![c]) = (values[2 * c], values[2 * c + 1]);
            return (re, im);
        }

        string FastMismatchMessage(FastBlock b, JacobianBlock? slow) =>
            PartPrefix(b.Output)
            + $"Jacobian mismatch for output {b.Output} with respect to input {b.Input},{Environment.NewLine}numerical:{Number(b.Numerical, b.NumericalImaginary)}{Environment.NewLine}analytical:{Number(b.Analytical, b.AnalyticalImaginary)}{Environment.NewLine}(fast mode compares vᵀJu for random unit vectors u and v; allowed difference {G(b.Atol)} + rtol·|numerical|.) The Jacobians recomputed in slow mode:"
            + Environment.NewLine
            + (
                slow is null ? "(not available)"
                : slow.Pass
                    ? "The slow check passes for this pair: fast mode failed though element-wise differences are small; check with FastMode = false."
                : MismatchMessage(slow, InputLabel(b.Input), o.MaxPrinted)
            );

        /// <summary>A random unit vector with one entry per element of t: float32 draws (PyTorch's default dtype), in
        /// t's dtype.</summary>
        static double[] UnitVector(Tensor t, Generator gen)
        {
            using var scope = NewDisposeScope();
            var vec = rand([t.numel()], ScalarType.Float32, generator: gen).to_type(RealDtype(t.dtype));
            vec /= vec.norm();
            return Values(vec);
        }

        /// <summary>(fn(x + h u) − fn(x − h u)) / 2h for input j, per floating-point output (gradcheck.py's
        /// _compute_numerical_gradient).</summary>
        double[][] DirectionalDifference(int j, double[] u, bool imaginary)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var x = inputs[j];
            // A complex input moves along the real parts of its elements, or along their imaginary parts (PyTorch's
            // u·h·i).
            var target = x.is_complex() ? x.view_as_real().select(-1, imaginary ? 1 : 0) : x;
            var orig = target.clone();
            var d = Like(target, u) * o.Eps;
            target.copy_(orig - d);
            var a = Measure(fn, inputs);
            target.copy_(orig + d);
            var b = Measure(fn, inputs);
            target.copy_(orig);
            SameShapeAndDtype(a.Outputs, b.Outputs, o.Eps, index: null);
            return a
                .Values.Select((ai, i) => ai.Select((av, r) => (b.Values[i][r] - av) / (2 * o.Eps)).ToArray())
                .ToArray();
        }

        static double Dot(double[] a, double[] b)
        {
            double s = 0;
            for (int i = 0; i < a.Length; i++)
                s += a[i] * b[i];
            return s;
        }
    }
}
