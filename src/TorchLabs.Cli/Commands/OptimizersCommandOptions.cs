using TorchLabs.Optimizers;

namespace TorchLabs.Cli.Commands;

/// <summary>What `torchlabs optimizers` was asked: one optimizer (<see cref="Spec"/>, validated) or, when it is null,
/// the race.</summary>
sealed record OptimizersRequest(
    OptimizerSpec? Spec,
    OptimizerImpl Impl,
    GradMode Grad,
    double[] Start,
    int Steps,
    bool Json,
    string OutDir
);

/// <summary>`torchlabs optimizers`'s options, bound into an <see cref="OptimizersRequest"/>.</summary>
sealed class OptimizersCommandOptions
{
    readonly Option<string?> optimizer = new("--optimizer")
    {
        Description = "gd, momentum, nesterov, adagrad, rmsprop or adam; without it, the race of all six",
    };
    readonly Option<string> impl = new("--impl")
    {
        Description = "hand (Optimizers/), torch (torch.optim) or reference (pure C#)",
        DefaultValueFactory = _ => "hand",
    };
    readonly Option<double?> lr = new("--lr") { Description = "Learning rate (default: the notes' for the optimizer)" };
    readonly Option<double?> momentum = new("--momentum")
    {
        Description = "Momentum μ (momentum, nesterov; the notes: 0.1)",
    };
    readonly Option<double> dampening = new("--dampening")
    {
        Description = "Momentum dampening τ (torch's)",
        DefaultValueFactory = _ => 0,
    };
    readonly Option<double?> alpha = new("--alpha") { Description = "RMSProp decay α (the notes: 0.9, torch: 0.99)" };
    readonly Option<double?> beta1 = new("--beta1") { Description = "Adam β₁ (0.9)" };
    readonly Option<double?> beta2 = new("--beta2") { Description = "Adam β₂ (0.999)" };
    readonly Option<double?> eps = new("--eps") { Description = "ε (AdaGrad 1e-10, RMSProp and Adam 1e-8)" };
    readonly Option<double> weightDecay = new("--weight-decay")
    {
        Description = "L2 penalty λ added to the gradient",
        DefaultValueFactory = _ => 0,
    };
    readonly Option<string> nesterovForm = new("--nesterov-form")
    {
        Description = "torch (g + μb) or lookahead (the notes' form; hand and reference only)",
        DefaultValueFactory = _ => "torch",
    };
    readonly Option<string?> start = new("--start")
    {
        Description = "Start X0,X1 (default: drawn uniformly from [-100, 100]² with --seed)",
    };
    readonly Option<int> steps = new("--steps")
    {
        Description = "Number of updates",
        DefaultValueFactory = _ => OptimizersReportLab.NotesSteps,
    };
    readonly Option<string> grad = new("--grad")
    {
        Description = "analytic (x0/10, 2 x1) or numerical (central differences, h = 1e-8 as the notes)",
        DefaultValueFactory = _ => "analytic",
    };
    readonly Option<long> seed = CommonOptions.Seed();
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<string> outDir = CommonOptions.Out("out/optimizers");
    readonly Option<int?> threads = CommonOptions.Threads();

    public OptimizersCommandOptions()
    {
        impl.AcceptOnlyFromAmong("hand", "torch", "reference");
        nesterovForm.AcceptOnlyFromAmong("torch", "lookahead");
        grad.AcceptOnlyFromAmong("analytic", "numerical");
    }

    public IEnumerable<Symbol> Symbols =>
        [
            optimizer,
            impl,
            lr,
            momentum,
            dampening,
            alpha,
            beta1,
            beta2,
            eps,
            weightDecay,
            nesterovForm,
            start,
            steps,
            grad,
            seed,
            format,
            outDir,
            threads,
        ];

    public OptimizersRequest Bind(ParseResult p)
    {
        CommonOptions.Setup(p.GetValue(threads), "cpu");
        // The start is drawn by System.Random, whose seed is 32 bits (and |seed|): every seed means one start, or is
        // refused.
        long seedValue = Require.WholeNumber(p.GetValue(seed), "seed", 0, int.MaxValue);
        double[] x0 = p.GetValue(start) is string s
            ? OptimizersCommand.ParseStart(s)
            : OptimizersLab.DrawStart(seedValue);
        int n = p.GetValue(steps);
        if (n < 0)
            throw new UsageException($"--steps {n}: expected a whole number >= 0");
        OptimizerSpec? spec = null;
        if (p.GetValue(optimizer) is string name)
        {
            var defaults = OptimizerSpec.NotesDefaults(name);
            spec = defaults with
            {
                Lr = p.GetValue(lr) ?? defaults.Lr,
                Momentum = p.GetValue(momentum) ?? defaults.Momentum,
                Dampening = p.GetValue(dampening),
                Alpha = p.GetValue(alpha) ?? defaults.Alpha,
                Beta1 = p.GetValue(beta1) ?? defaults.Beta1,
                Beta2 = p.GetValue(beta2) ?? defaults.Beta2,
                Eps = p.GetValue(eps),
                WeightDecay = p.GetValue(weightDecay),
                NesterovForm = p.GetValue(nesterovForm) == "lookahead" ? NesterovForm.LookAhead : NesterovForm.Torch,
            };
            spec.Validate();
        }
        return new OptimizersRequest(
            spec,
            Enum.Parse<OptimizerImpl>(p.GetValue(impl)!, ignoreCase: true),
            p.GetValue(grad) == "numerical" ? GradMode.Numerical : GradMode.Analytic,
            x0,
            n,
            p.GetValue(format) == "json",
            p.GetValue(outDir)!
        );
    }
}
