using TorchLabs.Reference;
using static TorchSharp.torch;

namespace TorchLabs.Optimizers;

/// <summary>
/// The hand references of PyTorch's optimizers (<see cref="TorchOptimReference"/>) as optimizers a TorchSharp user trains with:
/// the same factory shape as <c>torch.optim.RAdam(parameters, lr, beta1, beta2, eps, weight_decay)</c>, and <c>zero_grad()</c> /
/// <c>step()</c>. Each step copies the parameters and gradients into one float64 vector, applies PyTorch's update, and copies
/// back: slower than TorchSharp's optimizers, exactly PyTorch's numbers. Use where TorchSharp 0.107 differs
/// (docs/conformance.md: RAdam).
/// </summary>
public sealed class ReferenceOptim : IDisposable
{
    readonly Tensor[] parameters;
    readonly TorchOptimReference reference;

    ReferenceOptim(IEnumerable<Tensor> parameters, TorchOptimReference reference)
    {
        this.parameters = parameters.ToArray();
        if (this.parameters.Length == 0) throw new ArgumentException("optimizer got an empty parameter list");
        this.reference = reference;
    }

    /// <summary>PyTorch's RAdam (the rectified step as PyTorch takes it), with TorchSharp's <c>optim.RAdam</c> parameters; the
    /// defaults are PyTorch's (lr 1e-3).</summary>
    public static ReferenceOptim RAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weight_decay = 0) =>
        new(parameters, TorchOptimReference.Create("RAdam", new OptimSettings(new Dictionary<string, double[]>
        {
            ["lr"] = [lr], ["betas"] = [beta1, beta2], ["eps"] = [eps], ["weight_decay"] = [weight_decay],
        })));

    /// <summary>Any of <see cref="TorchOptimReference.Names"/> with settings in PyTorch's keywords.</summary>
    public static ReferenceOptim Create(string name, IEnumerable<Tensor> parameters, OptimSettings settings) =>
        new(parameters, TorchOptimReference.Create(name, settings));

    /// <summary>Clears the gradients (set to none).</summary>
    public void zero_grad()
    {
        foreach (var p in parameters)
        {
            var g = p.grad;
            if (g is null) continue;
            p.grad = null;
            g.Dispose();
        }
    }

    /// <summary>One update of all parameters (every parameter must have a gradient: the state is one vector).</summary>
    public void step()
    {
        using var scope = NewDisposeScope();
        var θ = parameters.SelectMany(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();
        var g = parameters.SelectMany(p => (p.grad ?? throw new InvalidOperationException("a parameter has no gradient"))
            .to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();
        reference.Step(θ, g);
        using var _ = no_grad();
        int at = 0;
        foreach (var p in parameters)
        {
            int n = (int)p.numel();
            p.copy_(tensor(θ.AsSpan(at, n).ToArray(), p.shape, ScalarType.Float64));
            at += n;
        }
    }

    public void Dispose() { }
}
