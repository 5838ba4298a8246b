using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>The gradient checker tests' inputs: standard normal leaves that require grad, each drawn from its own
/// seeded generator (no global generator).</summary>
public static class Leaves
{
    /// <summary>A float64 leaf of <paramref name="shape"/>.</summary>
    public static Tensor Leaf(ulong seed, params long[] shape) => Normal(seed, ScalarType.Float64, shape);

    /// <summary>A complex128 leaf of <paramref name="shape"/> (as torch.randn: real and imaginary parts of variance ½
    /// each).</summary>
    public static Tensor ComplexLeaf(ulong seed, params long[] shape) => Normal(seed, ScalarType.ComplexFloat64, shape);

    static Tensor Normal(ulong seed, ScalarType dtype, long[] shape)
    {
        using var gen = new TorchSharp.torch.Generator(seed);
        return randn(shape, dtype, generator: gen).requires_grad_(true);
    }
}
