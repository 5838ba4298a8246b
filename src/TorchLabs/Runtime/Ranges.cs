namespace TorchLabs.Runtime;

/// <summary>A hyper-parameter's allowed values: one definition for the command line
/// (<c>Labs.OptimizerSpec.Validate</c>) and the constructors.</summary>
public sealed record ValueRange(double Min, bool MinIncluded, double Max, bool MaxIncluded)
{
    public static readonly ValueRange Positive = new(0, false, double.PositiveInfinity, false);
    public static readonly ValueRange NonNegative = new(0, true, double.PositiveInfinity, false);
    public static readonly ValueRange UnitOpen = new(0, true, 1, false); // [0, 1): momentum, β₁, β₂, α
    public static readonly ValueRange UnitClosed = new(0, true, 1, true); // [0, 1]: dampening

    public bool Contains(double v) =>
        double.IsFinite(v) && (MinIncluded ? v >= Min : v > Min) && (MaxIncluded ? v <= Max : v < Max);

    public override string ToString() =>
        double.IsPositiveInfinity(Max)
            ? (MinIncluded ? $"a finite number >= {Min}" : $"a finite number greater than {Min}")
            : $"a number in {(MinIncluded ? "[" : "(")}{Min}, {Max}{(MaxIncluded ? "]" : ")")}";

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a constructor argument outside the
    /// range.</summary>
    public double Require(double v, string name) =>
        Contains(v) ? v : throw new ArgumentOutOfRangeException(name, v, $"expected {this}");
}

/// <summary>The hyper-parameters' ranges, shared by every optimizer.</summary>
public static class Ranges
{
    public static readonly ValueRange Lr = ValueRange.Positive;
    public static readonly ValueRange Momentum = ValueRange.UnitOpen;
    public static readonly ValueRange Dampening = ValueRange.UnitClosed;
    public static readonly ValueRange Alpha = ValueRange.UnitOpen;
    public static readonly ValueRange Beta = ValueRange.UnitOpen;
    public static readonly ValueRange Eps = ValueRange.NonNegative;
    public static readonly ValueRange WeightDecay = ValueRange.NonNegative;
    public static readonly ValueRange LrDecay = ValueRange.NonNegative; // torch.optim.Adagrad's lr_decay
    public static readonly ValueRange InitialAccumulator = ValueRange.NonNegative; // and its initial_accumulator_value
}
