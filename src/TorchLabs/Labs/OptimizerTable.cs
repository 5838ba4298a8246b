using TorchLabs.Optimizers;
using TorchLabs.Reference;

namespace TorchLabs.Labs;

// The table that wires each hand optimizer to TorchSharp's and to the pure C# reference (the oracle): it lives where
// the three are compared, above both Optimizers/ and Reference/, so that neither depends on the other.
/// <summary>
/// One optimizer, one row: its name, what it is, notes 000/001 Q3's settings, torch's default eps, its hand
/// implementation (Optimizers/), TorchSharp's torch.optim equivalent, the pure C# reference (Reference/), its notes
/// form where the notes writes it differently, and how to describe it. Adding an optimizer is adding a row to <see
/// cref="OptimizerTable.Rows"/>.
/// </summary>
public sealed record OptimizerRow(
    string Name,
    string Description,
    Func<OptimizerSpec, OptimizerSpec> NotesDefaults,
    double DefaultEps,
    Func<OptimizerSpec, IEnumerable<Tensor>, HandOptimizer> Hand,
    Func<OptimizerSpec, IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> Torch,
    Func<OptimizerSpec, TorchOptimReference> Reference,
    Func<OptimizerSpec, string> Describe,
    Func<OptimizerSpec, INotesForm?>? NotesForm = null,
    Func<OptimizerSpec, string?>? Check = null
);

/// <summary>The six optimizers of notes 000/001 Q3.</summary>
public static class OptimizerTable
{
    public static readonly OptimizerRow[] Rows =
    [
        new(
            "gd",
            "gradient descent, θ ← θ − η g",
            s => s with { Lr = 1e-3 },
            1e-8,
            (s, ps) => new Gd(ps, s.Lr, s.WeightDecay),
            (s, ps) => optim.SGD(ps, s.Lr, 0, 0, s.WeightDecay),
            s => Ref("SGD", s),
            s => $"GD lr {s.Lr}"
        ),
        new(
            "momentum",
            "heavy-ball momentum (torch.optim.SGD with momentum)",
            s => s with { Lr = 1e-3, Momentum = 0.1 },
            1e-8,
            (s, ps) => new Momentum(ps, s.Lr, s.Momentum, s.Dampening, s.WeightDecay),
            (s, ps) => optim.SGD(ps, s.Lr, s.Momentum, s.Dampening, s.WeightDecay),
            s => Ref("SGD", s, ("momentum", [s.Momentum]), ("dampening", [s.Dampening])),
            s => $"Momentum lr {s.Lr}, μ {s.Momentum}",
            Check: s => s.Momentum == 0 ? "‹momentum› 0: momentum needs a momentum greater than 0" : null
        ),
        new(
            "nesterov",
            "Nesterov momentum (torch's form, or the notes' look-ahead form)",
            s => s with { Lr = 1e-3, Momentum = 0.1 },
            1e-8,
            (s, ps) => new Nesterov(ps, s.Lr, s.Momentum, s.Dampening, s.WeightDecay, s.NesterovForm),
            (s, ps) =>
                s.NesterovForm == NesterovForm.LookAhead
                    ? throw new UsageException(
                        "‹nesterov-form› lookahead: torch.optim has only the torch form; use ‹impl› hand or reference"
                    )
                    : optim.SGD(ps, s.Lr, s.Momentum, 0, s.WeightDecay, nesterov: true),
            s => Ref("SGD", s, ("momentum", [s.Momentum]), ("nesterov", [1])),
            s =>
                $"Nesterov lr {s.Lr}, μ {s.Momentum} ({(s.NesterovForm == NesterovForm.Torch ? "torch" : "look-ahead")} form)",
            NotesForm: s =>
                s.NesterovForm == NesterovForm.LookAhead ? new NotesForms.NesterovNotes(s.Lr, s.Momentum) : null,
            Check: s =>
                s.Momentum == 0 ? "‹momentum› 0: nesterov needs a momentum greater than 0"
                : s.Dampening != 0 ? $"‹dampening› {s.Dampening}: Nesterov momentum requires zero dampening"
                : null
        ),
        new(
            "adagrad",
            "AdaGrad, per-coordinate G += g²",
            s => s with { Lr = 0.1 },
            1e-10,
            (s, ps) => new AdaGrad(ps, s.Lr, 0, s.WeightDecay, 0, s.EffectiveEps),
            (s, ps) => optim.Adagrad(ps, s.Lr, 0, s.WeightDecay, 0, s.EffectiveEps),
            s => Ref("Adagrad", s, ("eps", [s.EffectiveEps])),
            s => $"AdaGrad lr {s.Lr}, ε {s.EffectiveEps}"
        ),
        new(
            "rmsprop",
            "RMSProp, E[g²] ← α E[g²] + (1 − α) g²",
            s => s with { Lr = 0.01, Alpha = 0.9 },
            1e-8,
            (s, ps) => new RmsProp(ps, s.Lr, s.Alpha, s.EffectiveEps, s.WeightDecay),
            (s, ps) => optim.RMSProp(ps, s.Lr, s.Alpha, s.EffectiveEps, s.WeightDecay),
            s => Ref("RMSprop", s, ("alpha", [s.Alpha]), ("eps", [s.EffectiveEps])),
            s => $"RMSProp lr {s.Lr}, α {s.Alpha}, ε {s.EffectiveEps}"
        ),
        new(
            "adam",
            "Adam with bias correction",
            s => s with { Lr = 0.1 },
            1e-8,
            (s, ps) => new Adam(ps, s.Lr, (s.Beta1, s.Beta2), s.EffectiveEps, s.WeightDecay),
            (s, ps) => optim.Adam(ps, s.Lr, s.Beta1, s.Beta2, s.EffectiveEps, s.WeightDecay),
            s => Ref("Adam", s, ("betas", [s.Beta1, s.Beta2]), ("eps", [s.EffectiveEps])),
            s => $"Adam lr {s.Lr}, β ({s.Beta1}, {s.Beta2}), ε {s.EffectiveEps}"
        ),
    ];

    public static IEnumerable<string> Names => Rows.Select(r => r.Name);

    /// <summary>The pure C# reference of torch.optim's <paramref name="name"/> (Reference/TorchOptimReferences.cs, the
    /// one reference per algorithm, which conformance uses too): lr and weight_decay from <paramref name="s"/>, then
    /// the optimizer's own settings, in PyTorch's keyword names.</summary>
    static TorchOptimReference Ref(string name, OptimizerSpec s, params (string Key, double[] Value)[] own)
    {
        (string Key, double[] Value)[] common = [("lr", [s.Lr]), ("weight_decay", [s.WeightDecay])];
        return TorchOptimReference.Create(name, new(common.Concat(own).ToDictionary()));
    }

    /// <summary>The row of <paramref name="name"/>; an unknown name is a <see cref="UsageException"/> listing the known
    /// ones.</summary>
    public static OptimizerRow Find(string name) =>
        Rows.FirstOrDefault(r => r.Name == name)
        ?? throw new UsageException(
            $"‹optimizer› {name}: unknown optimizer; expected one of {string.Join(", ", Names)}"
        );
}

/// <summary>
/// One optimizer and its hyper-parameters, in torch's names. <see cref="NotesDefaults"/> gives notes 000/001 Q3's
/// settings; everything else defaults as torch.optim does. What each optimizer is lives in its <see
/// cref="OptimizerTable"/> row.
/// </summary>
public sealed record OptimizerSpec
{
    public static readonly string[] Names = [.. OptimizerTable.Names];

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

    public OptimizerRow Row => OptimizerTable.Find(Name);

    /// <summary>Torch's eps for the optimizer: AdaGrad 1e-10, RMSProp and Adam 1e-8.</summary>
    public double EffectiveEps => Eps ?? Row.DefaultEps;

    /// <summary>Notes Q3: GD lr 1e-3, AdaGrad 0.1, RMSProp 0.01 with decay 0.9, Momentum 1e-3 with μ 0.1, Nesterov 1e-3
    /// with μ 0.1, Adam 0.1.</summary>
    public static OptimizerSpec NotesDefaults(string name) =>
        OptimizerTable.Find(name).NotesDefaults(new OptimizerSpec { Name = name });

    /// <summary>Throws <see cref="UsageException"/> naming the first hyper-parameter out of its <see
    /// cref="Ranges"/>.</summary>
    public void Validate()
    {
        var row = Row;
        foreach (
            var (option, value, range) in new (string, double, ValueRange)[]
            {
                ("‹lr›", Lr, Ranges.Lr),
                ("‹momentum›", Momentum, Ranges.Momentum),
                ("‹alpha›", Alpha, Ranges.Alpha),
                ("‹beta1›", Beta1, Ranges.Beta),
                ("‹beta2›", Beta2, Ranges.Beta),
                ("‹eps›", Eps ?? row.DefaultEps, Ranges.Eps),
                ("‹weight-decay›", WeightDecay, Ranges.WeightDecay),
                ("‹dampening›", Dampening, Ranges.Dampening),
            }
        )
            if (!range.Contains(value))
                throw new UsageException($"{option} {value}: expected {range}");
        if (row.Check?.Invoke(this) is string problem)
            throw new UsageException(problem);
    }

    /// <summary>The hand-written optimizer (Optimizers/).</summary>
    public HandOptimizer CreateHand(IEnumerable<Tensor> parameters) => Row.Hand(this, parameters);

    /// <summary>TorchSharp's built-in torch.optim equivalent.</summary>
    public optim.Optimizer CreateTorch(IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        Row.Torch(this, parameters);

    /// <summary>The pure C# reference (Reference/).</summary>
    public TorchOptimReference CreateReference() => Row.Reference(this);

    /// <summary>The notes' own form of the update, where it differs from the reference's (Nesterov's look-ahead); null
    /// otherwise.</summary>
    public INotesForm? CreateNotesForm() => Row.NotesForm?.Invoke(this);

    /// <summary>A short description with the hyper-parameters that matter for this optimizer.</summary>
    public string Describe() => Row.Describe(this) + (WeightDecay != 0 ? $", weight decay {WeightDecay}" : "");
}
