using System.Globalization;

namespace TorchLabs.Runtime;

/// <summary>
/// The checks options share, each written once: a whole number within its bounds, a learning rate. Each throws
/// <see cref="UsageException"/> naming the setting (‹name›) and what was expected, and returns the value it checked.
/// </summary>
public static class Require
{
    /// <summary>The largest learning rate a float32 step can hold (float.MaxValue, about 3.4e38); a larger one
    /// overflows in the step's arithmetic.</summary>
    public const double MaxLearningRate = float.MaxValue;

    /// <summary>A whole number of at least <paramref name="min"/> (and at most <paramref name="max"/>, when
    /// given).</summary>
    public static long WholeNumber(long value, string setting, long min = 1, long? max = null)
    {
        if (value < min || value > max)
            throw new UsageException(
                max is long m
                    ? $"‹{setting}› {value}: expected a whole number from {min} to {m.ToString("N0", CultureInfo.InvariantCulture)}"
                    : $"‹{setting}› {value}: expected a whole number of at least {min}"
            );
        return value;
    }

    /// <summary><see cref="WholeNumber(long, string, long, long?)"/> of an int.</summary>
    public static int WholeNumber(int value, string setting, int min = 1, int? max = null) =>
        (int)WholeNumber((long)value, setting, min, max);

    /// <summary>An optional whole number: none, or at least <paramref name="min"/>.</summary>
    public static int? WholeNumber(int? value, string setting, int min = 1) =>
        value is int v ? WholeNumber(v, setting, min) : null;

    /// <summary>A learning rate: a finite number above 0 that float32 can hold (at most <see
    /// cref="MaxLearningRate"/>).</summary>
    public static double LearningRate(double value, string setting = "lr")
    {
        if (!double.IsFinite(value) || value <= 0 || value > MaxLearningRate)
            throw new UsageException(
                $"‹{setting}› {value.ToString(CultureInfo.InvariantCulture)}: expected a finite number greater than 0 and at most {MaxLearningRate:G3} (float32's largest)"
            );
        return value;
    }
}

/// <summary>The random seed every run starts from unless given one: the same seed, the same numbers.</summary>
public static class Seeds
{
    /// <summary>The default seed of every lab and command (1).</summary>
    public const long Default = 1;
}
