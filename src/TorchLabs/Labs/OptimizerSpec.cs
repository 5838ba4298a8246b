using TorchLabs.Optimizers;
using TorchLabs.Reference;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Labs;

/// <summary>
/// One optimizer and its hyper-parameters, in torch's names. <see cref="SeedDefaults"/> gives seed 000/001 Q3's
/// settings; everything else defaults as torch.optim does.
/// </summary>
public sealed record OptimizerSpec
{
    public static readonly string[] Names = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];

    public required string Name { get; init; }
    public double Lr { get; init; }
    public double Momentum { get; init; }
    public double Dampening { get; init; }
    public double Alpha { get; init; } = 0.99;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double? Eps { get; init; }
    public double WeightDecay { get; init; }
    public NesterovForm NesterovForm { get; init; } = NesterovForm.Torch;

    /// <summary>Torch's eps for the optimizer: AdaGrad 1e-10, RMSProp and Adam 1e-8.</summary>
    public double EffectiveEps => Eps ?? (Name == "adagrad" ? 1e-10 : 1e-8);

    /// <summary>Seed Q3: GD lr 1e-3, AdaGrad 0.1, RMSProp 0.01 with decay 0.9, Momentum 1e-3 with μ 0.1, Nesterov 1e-3 with μ 0.1, Adam 0.1.</summary>
    public static OptimizerSpec SeedDefaults(string name) => name switch
    {
        "gd" => new() { Name = name, Lr = 1e-3 },
        "momentum" => new() { Name = name, Lr = 1e-3, Momentum = 0.1 },
        "nesterov" => new() { Name = name, Lr = 1e-3, Momentum = 0.1 },
        "adagrad" => new() { Name = name, Lr = 0.1 },
        "rmsprop" => new() { Name = name, Lr = 0.01, Alpha = 0.9 },
        "adam" => new() { Name = name, Lr = 0.1 },
        _ => throw new UsageException($"--optimizer {name}: unknown optimizer; expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>Throws <see cref="UsageException"/> naming the first hyper-parameter out of range.</summary>
    public void Validate()
    {
        if (!Names.Contains(Name)) throw new UsageException($"--optimizer {Name}: unknown optimizer; expected one of {string.Join(", ", Names)}");
        if (!double.IsFinite(Lr) || Lr <= 0) throw new UsageException($"--lr {Lr}: expected a finite learning rate greater than 0");
        if (!double.IsFinite(Momentum) || Momentum < 0 || Momentum >= 1) throw new UsageException($"--momentum {Momentum}: expected a number in [0, 1)");
        if (Name is "momentum" or "nesterov" && Momentum == 0) throw new UsageException($"--momentum 0: {Name} needs a momentum greater than 0");
        if (!double.IsFinite(Alpha) || Alpha < 0 || Alpha >= 1) throw new UsageException($"--alpha {Alpha}: expected a number in [0, 1)");
        if (!double.IsFinite(Beta1) || Beta1 < 0 || Beta1 >= 1) throw new UsageException($"--beta1 {Beta1}: expected a number in [0, 1)");
        if (!double.IsFinite(Beta2) || Beta2 < 0 || Beta2 >= 1) throw new UsageException($"--beta2 {Beta2}: expected a number in [0, 1)");
        if (Eps is double e && (!double.IsFinite(e) || e < 0)) throw new UsageException($"--eps {e}: expected a finite number >= 0");
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0) throw new UsageException($"--weight-decay {WeightDecay}: expected a finite number >= 0");
        if (!double.IsFinite(Dampening) || Dampening < 0 || Dampening > 1) throw new UsageException($"--dampening {Dampening}: expected a number in [0, 1]");
        if (Name == "nesterov" && Dampening != 0) throw new UsageException($"--dampening {Dampening}: Nesterov momentum requires zero dampening");
    }

    /// <summary>The hand-written optimizer (Optimizers/).</summary>
    public HandOptimizer CreateHand(IEnumerable<Tensor> parameters) => Name switch
    {
        "gd" => new Gd(parameters, Lr, WeightDecay),
        "momentum" => new Optimizers.Momentum(parameters, Lr, Momentum, Dampening, WeightDecay),
        "nesterov" => new Nesterov(parameters, Lr, Momentum, Dampening, WeightDecay, NesterovForm),
        "adagrad" => new AdaGrad(parameters, Lr, 0, WeightDecay, 0, EffectiveEps),
        "rmsprop" => new RmsProp(parameters, Lr, Alpha, EffectiveEps, WeightDecay),
        "adam" => new Optimizers.Adam(parameters, Lr, Beta1, Beta2, EffectiveEps, WeightDecay),
        _ => throw new UsageException($"unknown optimizer {Name}"),
    };

    /// <summary>TorchSharp's built-in torch.optim equivalent.</summary>
    public optim.Optimizer CreateTorch(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        if (Name == "nesterov" && NesterovForm == NesterovForm.LookAhead)
            throw new UsageException("--nesterov-form lookahead: torch.optim has only the torch form; use --impl hand or reference");
        return Name switch
        {
            "gd" => optim.SGD(parameters, Lr, 0, 0, WeightDecay),
            "momentum" => optim.SGD(parameters, Lr, Momentum, Dampening, WeightDecay),
            "nesterov" => optim.SGD(parameters, Lr, Momentum, 0, WeightDecay, nesterov: true),
            "adagrad" => optim.Adagrad(parameters, Lr, 0, WeightDecay, 0, EffectiveEps),
            "rmsprop" => optim.RMSProp(parameters, Lr, Alpha, EffectiveEps, WeightDecay),
            "adam" => optim.Adam(parameters, Lr, Beta1, Beta2, EffectiveEps, WeightDecay),
            _ => throw new UsageException($"unknown optimizer {Name}"),
        };
    }

    /// <summary>The pure C# reference (Reference/).</summary>
    public ReferenceOptimizer CreateReference() => Name switch
    {
        "gd" => new RefGd(Lr, WeightDecay),
        "momentum" => new RefMomentum(Lr, Momentum, Dampening, WeightDecay),
        "nesterov" => new RefMomentum(Lr, Momentum, 0, WeightDecay, nesterov: true),
        "adagrad" => new RefAdaGrad(Lr, 0, WeightDecay, 0, EffectiveEps),
        "rmsprop" => new RefRmsProp(Lr, Alpha, EffectiveEps, WeightDecay),
        "adam" => new RefAdam(Lr, Beta1, Beta2, EffectiveEps, WeightDecay),
        _ => throw new UsageException($"unknown optimizer {Name}"),
    };

    /// <summary>A short description with the hyper-parameters that matter for this optimizer.</summary>
    public string Describe() => Name switch
    {
        "gd" => $"GD lr {Lr}",
        "momentum" => $"Momentum lr {Lr}, μ {Momentum}",
        "nesterov" => $"Nesterov lr {Lr}, μ {Momentum} ({(NesterovForm == NesterovForm.Torch ? "torch" : "look-ahead")} form)",
        "adagrad" => $"AdaGrad lr {Lr}, ε {EffectiveEps}",
        "rmsprop" => $"RMSProp lr {Lr}, α {Alpha}, ε {EffectiveEps}",
        "adam" => $"Adam lr {Lr}, β ({Beta1}, {Beta2}), ε {EffectiveEps}",
        _ => Name,
    } + (WeightDecay != 0 ? $", weight decay {WeightDecay}" : "");
}
