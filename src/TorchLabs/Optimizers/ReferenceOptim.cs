using TorchLabs.Reference;

namespace TorchLabs.Optimizers;

/// <summary>
/// The hand references of PyTorch's optimizers (<see cref="TorchOptimReference"/>) as optimizers a TorchSharp user
/// trains with: the same factory shape as <c>torch.optim.RAdam(parameters, lr, beta1, beta2, eps, weight_decay)</c>,
/// and <c>zero_grad()</c> / <c>step()</c>. Each step copies the parameters and gradients into one float64 vector,
/// applies PyTorch's update, and copies back: slower than TorchSharp's optimizers, exactly PyTorch's numbers. Use where
/// TorchSharp 0.107 differs (docs/conformance.md: RAdam).
/// </summary>
public sealed class ReferenceOptim : IDisposable
{
    readonly Tensor[] parameters;
    readonly TorchOptimReference reference;

    ReferenceOptim(IEnumerable<Tensor> parameters, TorchOptimReference reference)
    {
        this.parameters = parameters.ToArray();
        if (this.parameters.Length == 0)
            throw new ArgumentException("optimizer got an empty parameter list");
        this.reference = reference;
    }

    /// <summary>PyTorch's RAdam (the rectified step as PyTorch takes it), with TorchSharp's <c>optim.RAdam</c>
    /// parameters; the defaults are PyTorch's (lr 1e-3).</summary>
    public static ReferenceOptim RAdam(
        IEnumerable<Tensor> parameters,
        double lr = 1e-3,
        double beta1 = 0.9,
        double beta2 = 0.999,
        double eps = 1e-8,
        double weight_decay = 0
    ) =>
        new(
            parameters,
            TorchOptimReference.Create(
                "RAdam",
                new OptimSettings(
                    new Dictionary<string, double[]>
                    {
                        ["lr"] = [lr],
                        ["betas"] = [beta1, beta2],
                        ["eps"] = [eps],
                        ["weight_decay"] = [weight_decay],
                    }
                )
            )
        );

    /// <summary>Any of <see cref="TorchOptimReference.Names"/> with settings in PyTorch's keywords.</summary>
    public static ReferenceOptim Create(string name, IEnumerable<Tensor> parameters, OptimSettings settings) =>
        new(parameters, TorchOptimReference.Create(name, settings));

    /// <summary>Clears the gradients (set to none).</summary>
    public void zero_grad() => HandOptimizer.ClearGradients(parameters);

    /// <summary>One update of all parameters (every parameter must have a gradient: the state is one vector).</summary>
    public void step()
    {
        using var scope = NewDisposeScope();
        var θ = parameters.SelectMany(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();
        var g = parameters
            .SelectMany(p =>
                (p.grad ?? throw new InvalidOperationException("a parameter has no gradient"))
                    .to_type(ScalarType.Float64)
                    .data<double>()
                    .ToArray()
            )
            .ToArray();
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

/// <summary>
/// The hand references of PyTorch's learning-rate schedulers (<see cref="SchedulerReference"/>) driving a TorchSharp
/// optimizer: construction makes PyTorch's initial step, <c>step()</c> (or <c>step(metric)</c> for ReduceLROnPlateau)
/// computes PyTorch's learning rate — and momentum, where the scheduler cycles it — and writes them into the
/// optimizer's first parameter group. Use where TorchSharp 0.107's scheduler differs (docs/conformance.md: MultiStepLR,
/// CyclicLR).
/// </summary>
public sealed class ReferenceLR
{
    readonly optim.Optimizer optimizer;
    readonly LrGroup group;
    readonly SchedulerReference reference;

    /// <param name="optimizer">A TorchSharp optimizer with one parameter group (SGD for momentum cycling).</param>
    /// <param name="name">PyTorch's class name (<see cref="SchedulerReference.Names"/>).</param>
    /// <param name="settings">PyTorch's keywords.</param>
    public ReferenceLR(optim.Optimizer optimizer, string name, SchedSettings settings)
    {
        this.optimizer = optimizer;
        var pg = optimizer.ParamGroups.Single();
        group = new LrGroup(pg.LearningRate, (pg as optim.IMomentum)?.Momentum ?? 0);
        reference = SchedulerReference.Create(name, group, settings);
        Write();
    }

    public void step()
    {
        reference.Step();
        Write();
    }

    public void step(double metric)
    {
        reference.Step(metric);
        Write();
    }

    void Write()
    {
        var pg = optimizer.ParamGroups.Single();
        pg.LearningRate = group.Lr;
        if (pg is optim.IMomentum m)
            m.Momentum = group.Momentum;
    }
}
