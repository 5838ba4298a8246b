namespace TorchLabs.Models;

/// <summary>The ReLU remedy (notes 003, "Effect of ReLU"): a_i = ReLU(W_i a_{i−1} + b_i), He-scaled weights (std
/// √(2/width)).</summary>
public sealed class ReluStack(
    int depth,
    int width,
    int classes,
    Generator generator,
    ScalarType dtype = ScalarType.Float32,
    double? weightStd = null
) : DeepStack(nameof(ReluStack), depth, width, classes, weightStd ?? Math.Sqrt(2.0 / width), generator, dtype)
{
    public override Tensor Activation(Tensor h) => nn.functional.relu(h);
}
