namespace TorchLabs.Runtime;

/// <summary>
/// Scalars alive as long as the process, for TorchSharp calls that may run while other threads allocate (a library's
/// caller, the test host). TorchSharp's operators make a temporary Scalar (<c>a + b</c> its alpha 1, <c>p / 20</c> its
/// divisor) and pass its handle to libtorch without keeping it reachable, so a collection caused by another thread can
/// finalize it while libtorch reads it (docs/conformance.md). <c>a.add(b, LiveScalars.One)</c> is <c>a + b</c> without
/// that temporary.
/// </summary>
public static class LiveScalars
{
    /// <summary>1: the alpha of a plain sum.</summary>
    public static readonly Scalar One = 1.0.ToScalar();
}
