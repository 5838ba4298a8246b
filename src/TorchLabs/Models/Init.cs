namespace TorchLabs.Models;

/// <summary>Parameter initialisation from an explicit generator (no global RNG), matching PyTorch's defaults.</summary>
public static class Init
{
    /// <summary>
    /// PyTorch's default for nn.Linear and nn.Conv2d (reset_parameters): W ~ kaiming_uniform(a = sqrt(5)), which is
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); fan_in = in_features
    /// (times the kernel area for a convolution). Drawn from <paramref name="generator"/>.
    /// </summary>
    public static void PyTorchDefault(Tensor weight, Tensor? bias, Generator generator)
    {
        long fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        double bound = 1.0 / Math.Sqrt(fanIn);
        using var _ = torch.no_grad();
        // Tensor.uniform_, not nn.init.uniform_: TorchSharp 0.107's nn.init.uniform_ ignores its generator
        // argument and draws from the global one (measured: two generators with one seed gave different weights).
        weight.uniform_(-bound, bound, generator);
        bias?.uniform_(-bound, bound, generator);
    }
}
