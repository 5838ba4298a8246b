namespace TorchLabs.Runtime;

/// <summary>
/// Tensor operations with a number as factor, each holding that number's <see cref="Scalar"/> until libtorch returns:
/// the hand optimizers' in-place updates, and <c>a.Add(b, 1)</c> for <c>a + b</c> where a step-by-step comparison
/// reads the numbers (the conformance losses, the residual stack). TorchSharp turns a double argument into a Scalar at
/// the call site and passes its native handle without keeping the Scalar reachable (its methods read
/// <c>value.Handle</c> and call libtorch, with no <c>GC.KeepAlive</c>), so a collection during the call can finalize
/// the Scalar while libtorch still reads it: c10's "Expected false to be true" from <c>Scalar::toDouble</c>, seen now
/// and then when the tests ran in parallel. TorchSharp's plain operators do the same: <c>a + b</c> is
/// <c>add(b, 1)</c>, and <c>p / 20</c> and <c>square()</c> (which is <c>pow(2)</c>) make their number a temporary.
/// The same operations, so the same numbers.
/// </summary>
static class KeptScalars
{
    /// <summary>t ← t + α·other.</summary>
    public static Tensor Add_(this Tensor t, Tensor other, double alpha)
    {
        using Scalar a = alpha.ToScalar();
        return t.add_(other, a);
    }

    /// <summary>t + α·other.</summary>
    public static Tensor Add(this Tensor t, Tensor other, double alpha)
    {
        using Scalar a = alpha.ToScalar();
        return t.add(other, a);
    }

    /// <summary>t ← t + c. TorchSharp's one-Scalar <c>add_</c> passes a temporary alpha of 1, so both are held
    /// here.</summary>
    public static Tensor Add_(this Tensor t, double c)
    {
        using Scalar s = c.ToScalar(),
            one = 1.0.ToScalar();
        return t.add_(s, one);
    }

    /// <summary>t ← c·t.</summary>
    public static Tensor Mul_(this Tensor t, double c)
    {
        using Scalar s = c.ToScalar();
        return t.mul_(s);
    }

    /// <summary>t ← t / c.</summary>
    public static Tensor Div_(this Tensor t, double c)
    {
        using Scalar s = c.ToScalar();
        return t.div_(s);
    }

    /// <summary>t ← t + c·a ⊙ b.</summary>
    public static Tensor Addcmul_(this Tensor t, Tensor a, Tensor b, double c)
    {
        using Scalar s = c.ToScalar();
        return t.addcmul_(a, b, s);
    }

    /// <summary>t + c·a ⊙ b.</summary>
    public static Tensor Addcmul(this Tensor t, Tensor a, Tensor b, double c)
    {
        using Scalar s = c.ToScalar();
        return t.addcmul(a, b, s);
    }

    /// <summary>t ← t + c·a / b.</summary>
    public static Tensor Addcdiv_(this Tensor t, Tensor a, Tensor b, double c)
    {
        using Scalar s = c.ToScalar();
        return t.addcdiv_(a, b, s);
    }
}
