namespace TorchLabs.Models;

/// <summary>Notes 003 eq. 52: a_i = σ(W_i a_{i−1} + b_i). σ′ ≤ 1/4, so gradients shrink with depth.</summary>
public sealed class SigmoidStack(
    int depth,
    int width,
    int classes,
    Generator generator,
    ScalarType dtype = ScalarType.Float32,
    double? weightStd = null
) : DeepStack(nameof(SigmoidStack), depth, width, classes, weightStd ?? 1 / Math.Sqrt(width), generator, dtype)
{
    public override Tensor Activation(Tensor h) => h.sigmoid();
}
