namespace TorchLabs.Models;

/// <summary>
/// Notes 003 eq. 75: a_i = σ(W_i a_{i−1} + b_i) + a_{i−1}. The identity path gives ∂a_i/∂a_{i−1} = I + diag(σ′)W_i, so
/// the product over layers does not shrink to 0.
/// </summary>
public sealed class ResidualStack(
    int depth,
    int width,
    int classes,
    Generator generator,
    ScalarType dtype = ScalarType.Float32,
    double? weightStd = null
) : DeepStack(nameof(ResidualStack), depth, width, classes, weightStd ?? 1 / Math.Sqrt(width), generator, dtype)
{
    public override bool Residual => true;

    public override Tensor Activation(Tensor h) => h.sigmoid();
}
