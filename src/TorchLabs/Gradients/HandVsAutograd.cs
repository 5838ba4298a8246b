namespace TorchLabs.Gradients;

/// <summary>One derivative, computed three ways: by hand, by libtorch autograd, and by central differences.</summary>
/// <param name="Name">The derivative, as the notes write it (dL/dW1).</param>
/// <param name="Shape">The shape of the variable (and of the derivative).</param>
/// <param name="Numeric">Central differences, or null where they are not taken (see <paramref
/// name="NumericNote"/>).</param>
public sealed record GradEntry(
    string Name,
    long[] Shape,
    double[] Hand,
    double[] Autograd,
    double[]? Numeric,
    string? NumericNote = null
)
{
    /// <summary>Largest absolute difference, hand against autograd.</summary>
    public double MaxAbsError => GradCheck.MaxAbs(Hand, Autograd);

    /// <summary>Relative error, hand against autograd (‖hand − autograd‖∞ / ‖autograd‖∞).</summary>
    public double RelError => HandVsAutograd.RelError(Hand, Autograd);

    /// <summary>Relative error, hand against central differences; NaN when not taken.</summary>
    public double NumericRelError => Numeric is null ? double.NaN : HandVsAutograd.RelError(Hand, Numeric);
    public bool Pass =>
        RelError <= HandVsAutograd.AutogradTolerance
        && (Numeric is null || NumericRelError <= HandVsAutograd.NumericTolerance);
}

/// <summary>A network's gradient check: its loss and every derivative.</summary>
public sealed record NetworkCheckResult(
    string Network,
    double Loss,
    IReadOnlyList<GradEntry> Entries,
    IReadOnlyList<string> Notes
)
{
    public double MaxRelError => Entries.Max(e => e.RelError);
    public double MaxNumericRelError =>
        Entries.Where(e => e.Numeric is not null).Select(e => e.NumericRelError).DefaultIfEmpty(0).Max();
    public bool Pass => Entries.All(e => e.Pass);
}

/// <summary>Comparisons shared by the derivations (float64 throughout); central differences come from <see
/// cref="GradCheck.NumericalJacobians(Func{Tensor[], Tensor[]}, Tensor[], int, Func{double, double})"/>.</summary>
public static class HandVsAutograd
{
    /// <summary>Hand against autograd: exact re-computations agree to 1e-9 relative (docs/design.md,
    /// "Conventions").</summary>
    public const double AutogradTolerance = 1e-9;

    /// <summary>Hand against central differences: 1e-6 relative (docs/design.md, "Conventions").</summary>
    public const double NumericTolerance = 1e-6;

    /// <summary>The central-difference step.</summary>
    public const double Step = 1e-6;

    /// <summary>How every report sentence writes <see cref="RelError"/>.</summary>
    public const string RelErrorFormula = "‖a − b‖∞ / ‖b‖∞";

    /// <summary>
    /// The one relative error of TorchLabs: ‖a − b‖∞ / ‖b‖∞, b the reference (autograd, torch.optim, central
    /// differences); where b is all zeros, the absolute error ‖a‖∞. Every comparison (gradients, optimizer paths,
    /// Jacobian blocks) uses it.
    /// </summary>
    public static double RelError(double[] a, double[] b)
    {
        if (a.Length != b.Length)
            return double.PositiveInfinity;
        double diff = GradCheck.MaxAbs(a, b),
            scale = b.Length == 0 ? 0 : b.Max(Math.Abs);
        return scale == 0 ? diff : diff / scale;
    }

    /// <summary>
    /// ∂loss/∂v by central differences, (loss(v + h eᵢ) − loss(v − h eᵢ)) / 2h for every element of <paramref
    /// name="v"/>, where <paramref name="loss"/> recomputes the loss from v (the rest of the network held fixed). With
    /// <paramref name="relative"/> the step is h·|vᵢ| (for probabilities, where a fixed step is too coarse near 0).
    /// </summary>
    public static double[] CentralDifferences(
        Tensor v,
        Func<Tensor, Tensor> loss,
        double h = Step,
        bool relative = false
    )
    {
        var x = v.detach().clone().to_type(ScalarType.Float64).contiguous();
        // The one checking engine: GradCheck's numerical Jacobian of the scalar loss, a single row.
        var J = GradCheck.NumericalJacobians(
            xs => [loss(xs[0])],
            [x],
            0,
            keep => relative && keep != 0 ? h * Math.Abs(keep) : h
        )[0];
        return Enumerable.Range(0, J.GetLength(0)).Select(k => J[k, 0]).ToArray();
    }

    /// <summary>Builds an entry from the hand tensor, the autograd tensor, and (unless <paramref name="skipNumeric"/>
    /// names why not) central differences.</summary>
    public static GradEntry Entry(
        string name,
        Tensor hand,
        Tensor autograd,
        Tensor value,
        Func<Tensor, Tensor> lossFrom,
        string? skipNumeric = null,
        bool relativeStep = false
    ) =>
        new(
            name,
            value.shape,
            GradCheck.Values(hand),
            GradCheck.Values(autograd),
            skipNumeric is null ? CentralDifferences(value, lossFrom, Step, relativeStep) : null,
            skipNumeric
        );

    /// <summary>A leaf copy of <paramref name="t"/> in float64 that records gradients.</summary>
    public static Tensor Leaf(Tensor t) => t.detach().clone().to_type(ScalarType.Float64).requires_grad_(true);

    /// <summary>Nested lists in the variable's shape (for JSON): a vector as a list, a matrix as a list of rows, and so
    /// on.</summary>
    public static object Nest(double[] values, long[] shape)
    {
        if (shape.Length == 0)
            return values[0];
        if (shape.Length == 1)
            return values;
        long inner = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return Enumerable
            .Range(0, (int)shape[0])
            .Select(i => Nest(values.Skip((int)(i * inner)).Take((int)inner).ToArray(), shape[1..]))
            .ToArray();
    }
}
