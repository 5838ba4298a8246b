namespace TorchLabs.Gradients;

/// <summary>
/// Settings of <see cref="GradCheck.Check"/>, with the defaults of PyTorch's <c>torch.autograd.gradcheck</c>: central
/// differences with step <see cref="Eps"/>, and an element passes when
/// |analytical − numerical| ≤ <see cref="Atol"/> + <see cref="Rtol"/>·|numerical| (<c>torch.allclose</c>).
/// </summary>
public sealed record GradCheckOptions
{
    /// <summary><see cref="GradCheck.Assert"/> throws on a warning too (float32 inputs, whose central differences are
    /// noisy).</summary>
    public bool WarningsAsErrors { get; init; }

    /// <summary>PyTorch's default fast-mode generator seed (<c>torch.Generator()</c> starts from it), so u and v are
    /// PyTorch's.</summary>
    public const ulong PyTorchDefaultSeed = 67280421310721;

    /// <summary>The central-difference step h: (f(x + h eₖ) − f(x − h eₖ)) / 2h. PyTorch's default, 1e-6.</summary>
    public double Eps { get; init; } = 1e-6;

    /// <summary>Absolute tolerance, 1e-5 as PyTorch.</summary>
    public double Atol { get; init; } = 1e-5;

    /// <summary>Relative tolerance (against |numerical|), 1e-3 as PyTorch.</summary>
    public double Rtol { get; init; } = 1e-3;

    /// <summary>How far two runs of backward on the same input and grad_output may differ (0: bit-equal, PyTorch's
    /// default).</summary>
    public double NondetTol { get; init; }

    /// <summary>The seed of the random grad_outputs of <see cref="GradCheck.GradGradCheck"/> (uniform in [−1, 1), as
    /// PyTorch's).</summary>
    public long Seed { get; init; }

    /// <summary>
    /// PyTorch's <c>fast_mode=True</c>: instead of whole Jacobians, the scalars vᵀJu for random unit vectors u (per
    /// input) and v (per output), J u by central differences along u and vᵀJ by one backward per output. On a failure
    /// the slow check runs and the full Jacobians are reported.
    /// </summary>
    public bool FastMode { get; init; }

    /// <summary>The seed of fast mode's u and v: PyTorch's own by default, so that a run reproduces PyTorch's
    /// numbers.</summary>
    public ulong FastModeSeed { get; init; } = PyTorchDefaultSeed;

    /// <summary>Report mismatches where the one-sided differences disagree as points of non-differentiability (default
    /// on).</summary>
    public bool DiagnoseKinks { get; init; } = true;

    /// <summary>Rows and columns of a Jacobian printed in a message before it is cut (the whole matrix stays in the
    /// result).</summary>
    public int MaxPrinted { get; init; } = 16;

    /// <summary>PyTorch's <c>gen_non_contig_grad_outputs</c> (gradgradcheck): the random grad_outputs it draws are laid
    /// out non-contiguously (every other element of a buffer whose other elements are NaN), so a double backward that
    /// assumes contiguous memory shows it.</summary>
    public bool GenNonContigGradOutputs { get; init; }

    /// <summary>PyTorch's <c>check_grad_dtypes</c> (off by default, as there): every gradient backward returns has its
    /// input's dtype, else "Gradient has dtype mismatch".</summary>
    public bool CheckGradDtypes { get; init; }

    /// <summary>PyTorch's <c>check_undefined_grad</c> (on by default): with several outputs, backward is run with each
    /// output's gradient left undefined in turn (the output left out of the call) and zero gradients for the others; it
    /// must not fail and must give zero or undefined input gradients.</summary>
    public bool CheckUndefinedGrad { get; init; } = true;

    /// <summary>PyTorch's <c>check_batched_grad</c> (off by default, as there). PyTorch compares gradients for a batch
    /// of grad_outputs computed with vmap against a loop of single backwards; TorchSharp has no vmap, so here the
    /// batched gradient would be the loop itself. The option is accepted so that ported code compiles, checks nothing
    /// more, and adds a warning saying so.</summary>
    public bool CheckBatchedGrad { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of its range: a finite
    /// step above 0, finite tolerances of at least 0, at least one row and column printed.</summary>
    public void Validate()
    {
        Require(double.IsFinite(Eps) && Eps > 0, nameof(Eps), Eps, "a finite step above 0");
        Require(double.IsFinite(Atol) && Atol >= 0, nameof(Atol), Atol, "a finite tolerance of at least 0");
        Require(double.IsFinite(Rtol) && Rtol >= 0, nameof(Rtol), Rtol, "a finite tolerance of at least 0");
        Require(NondetTol >= 0, nameof(NondetTol), NondetTol, "a tolerance of at least 0");
        Require(MaxPrinted >= 1, nameof(MaxPrinted), MaxPrinted, "at least 1 row and column");
    }

    static void Require(bool ok, string name, object value, string expected)
    {
        if (!ok)
            throw new ArgumentOutOfRangeException(
                name,
                value,
                $"GradCheckOptions.{name} is {value}; expected {expected}"
            );
    }
}

/// <summary>
/// A point where the function is not differentiable: the left and right one-sided differences of output element
/// <see cref="OutputElement"/> along input element <see cref="InputElement"/> disagree, so no backward formula can
/// match the central difference there (ReLU, abs, max with ties, hinge losses at their corners).
/// </summary>
public sealed record Kink(long InputElement, long OutputElement, double Left, double Right, double Analytical);

/// <summary>
/// One (output i, input j) block in PyTorch's orientation: a row per element of input j and a column per element of
/// output i (both in row-major order), computed by central differences (<see cref="Numerical"/>) and by backward (<see
/// cref="Analytical"/>).
/// </summary>
/// <param name="Output">The output's index among the outputs that require grad, as PyTorch counts it in
/// messages.</param>
/// <param name="Input">The input's index among the inputs that require grad, as PyTorch counts it.</param>
/// <param name="OutputPosition">The output's position in the list the function returns.</param>
/// <param name="InputPosition">The input's position in the list of inputs.</param>
/// <param name="MaxAbsError">max |analytical − numerical| over the block.</param>
/// <param name="MaxRelError">‖analytical − numerical‖∞ / ‖numerical‖∞ (the absolute error where the numerical block is
/// zero).</param>
/// <param name="Pass">Every element within atol + rtol·|numerical|.</param>
/// <param name="Kinks">Mismatching elements at which the function is not differentiable (the one-sided slopes differ by
/// more than curvature explains) and the backward gives a subgradient there.</param>
/// <param name="SmoothMismatches">Mismatching elements where the function is differentiable: backward errors.</param>
public sealed record JacobianBlock(
    int Output,
    int Input,
    int OutputPosition,
    int InputPosition,
    long[] OutputShape,
    long[] InputShape,
    double[,] Numerical,
    double[,] Analytical,
    double MaxAbsError,
    double MaxRelError,
    bool Pass,
    IReadOnlyList<Kink> Kinks,
    int SmoothMismatches
)
{
    /// <summary>The block fails only at points where the function is not differentiable.</summary>
    public bool OnlyKinks => !Pass && Kinks.Count > 0 && SmoothMismatches == 0;

    /// <summary>For a complex input: the imaginary parts of the numerical entries, ∂s/∂x + i·∂s/∂y as PyTorch forms
    /// them (s the output element, z = x + i·y the input element); <see cref="Numerical"/> holds the real parts. Null
    /// for a real input.</summary>
    public double[,]? NumericalImaginary { get; init; }

    /// <summary>For a complex input: the imaginary parts of the gradients backward returned (PyTorch's convention: the
    /// conjugate Wirtinger derivative times 2, ∂s/∂x + i·∂s/∂y for a real s). Null for a real input.</summary>
    public double[,]? AnalyticalImaginary { get; init; }

    /// <summary>For a function with complex outputs, which part of them this block is about: "real" or "imaginary"
    /// (PyTorch checks each as a real function); null otherwise.</summary>
    public string? Part { get; init; }

    /// <summary>What the kink diagnosis found at mismatches that are not kinks: a point where the function is not
    /// continuous, or central differences within the float's rounding noise. One line each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>Fast mode's scalars for one (output, input) pair: vᵀ(J u) by central differences and (vᵀJ) u by
/// backward.</summary>
/// <param name="Atol">The absolute tolerance scaled as PyTorch scales it: atol · Σu · Σv.</param>
public sealed record FastBlock(
    int Output,
    int Input,
    double Numerical,
    double Analytical,
    double Atol,
    bool Pass,
    double[] U,
    double[] V
)
{
    /// <summary>For a complex input: the imaginary part of vᵀJu by differences (v·(∂s/∂y) u_im); null for a real
    /// input.</summary>
    public double? NumericalImaginary { get; init; }

    /// <summary>For a complex input: the imaginary part of vᵀJu by backward (Im(vᵀJ)·u_im); null for a real
    /// input.</summary>
    public double? AnalyticalImaginary { get; init; }

    /// <summary>For a complex input: the second unit vector, along the imaginary parts.</summary>
    public double[]? UImaginary { get; init; }

    /// <summary>"real" or "imaginary" for a function with complex outputs (see <see
    /// cref="JacobianBlock.Part"/>).</summary>
    public string? Part { get; init; }
}

/// <summary>What <see cref="GradCheck.Check"/> found.</summary>
/// <param name="Blocks">Every (output, input) block, passing or not (in fast mode: only when it failed and the slow
/// check ran).</param>
/// <param name="Failures">One message per failure, in the order PyTorch would meet them (PyTorch raises the
/// first).</param>
/// <param name="Warnings">What PyTorch warns about (float32 inputs: central differences in single precision are
/// noisy).</param>
public sealed record GradCheckResult(
    IReadOnlyList<JacobianBlock> Blocks,
    IReadOnlyList<string> Failures,
    IReadOnlyList<string> Warnings
)
{
    /// <summary>Fast mode's vᵀJu comparisons (empty in slow mode).</summary>
    public IReadOnlyList<FastBlock> FastBlocks { get; init; } = [];

    /// <summary>No failure: the verdict PyTorch's gradcheck would return as True.</summary>
    public bool Pass => Failures.Count == 0;

    /// <summary>The blocks whose Jacobians differ.</summary>
    public IEnumerable<JacobianBlock> Mismatches => Blocks.Where(b => !b.Pass);

    /// <summary>It failed, and only by Jacobian mismatches at points where the function is not differentiable and where
    /// the backward gives a subgradient (a value between the one-sided slopes).</summary>
    public bool OnlyKinks =>
        !Pass && Mismatches.Any() && Mismatches.All(b => b.OnlyKinks) && Failures.Count == Mismatches.Count();

    /// <summary>The largest |analytical − numerical| over every block.</summary>
    public double MaxAbsError => Blocks.Select(b => b.MaxAbsError).DefaultIfEmpty(0).Max();

    /// <summary>The largest relative error of any block (see <see cref="JacobianBlock.MaxRelError"/>).</summary>
    public double MaxRelError => Blocks.Select(b => b.MaxRelError).DefaultIfEmpty(0).Max();

    /// <summary>The failures, one after the other (empty when it passes).</summary>
    public string Message => string.Join(Environment.NewLine, Failures);
}

/// <summary>Thrown by <see cref="GradCheck.Assert"/> and <see cref="GradCheck.AssertGradGrad"/>; the message reads like
/// PyTorch's GradcheckError.</summary>
public sealed class GradCheckException(string message, GradCheckResult result) : Exception(message)
{
    /// <summary>Everything the check found.</summary>
    public GradCheckResult Result { get; } = result;
}
