using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TorchLabs.Labs;
using TorchLabs.Optimizers;
using TorchLabs.Reporting;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs optimizers`: one optimizer's trajectory on seed Q3's f, or the race of all six.</summary>
public static class OptimizersCommand
{
    public static Command Create()
    {
        var optimizer = new Option<string?>("--optimizer")
        {
            Description = "gd, momentum, nesterov, adagrad, rmsprop or adam; without " +
            "it, the race of all six"
        };
        var impl = new Option<string>("--impl")
        {
            Description = "hand (Optimizers/), torch (torch.optim) or reference (pure C#)",
            DefaultValueFactory = _ => "hand"
        };
        impl.AcceptOnlyFromAmong("hand", "torch", "reference");
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: the seed's for the optimizer)" };
        var momentum = new Option<double?>("--momentum") { Description = "Momentum μ (momentum, nesterov; seed 0.1)" };
        var dampening = new Option<double>("--dampening") { Description = "Momentum dampening τ (torch's)", DefaultValueFactory = _ => 0 };
        var alpha = new Option<double?>("--alpha") { Description = "RMSProp decay α (seed 0.9, torch 0.99)" };
        var beta1 = new Option<double?>("--beta1") { Description = "Adam β₁ (0.9)" };
        var beta2 = new Option<double?>("--beta2") { Description = "Adam β₂ (0.999)" };
        var eps = new Option<double?>("--eps") { Description = "ε (AdaGrad 1e-10, RMSProp and Adam 1e-8)" };
        var weightDecay = new Option<double>("--weight-decay")
        {
            Description = "L2 penalty λ added to the gradient",
            DefaultValueFactory = _ => 0
        };
        var nesterovForm = new Option<string>("--nesterov-form")
        {
            Description = "torch (g + μb) or lookahead (the seed's form; hand and " +
            "reference only)", DefaultValueFactory = _ => "torch"
        };
        nesterovForm.AcceptOnlyFromAmong("torch", "lookahead");
        var start = new Option<string?>("--start") { Description = "Start X0,X1 (default: drawn uniformly from [-100, 100]² with --seed)" };
        var steps = new Option<int>("--steps")
        {
            Description = "Number of updates", DefaultValueFactory = _ =>
            OptimizersReportLab.SeedSteps
        };
        var grad = new Option<string>("--grad")
        {
            Description = "analytic (x0/10, 2 x1) or numerical (central differences, h = 1e-8 as " +
            "the seed)", DefaultValueFactory = _ => "analytic"
        };
        grad.AcceptOnlyFromAmong("analytic", "numerical");
        var seed = CommonOptions.Seed();
        var format = CommonOptions.Format();
        var outDir = CommonOptions.Out("out/optimizers");
        var threads = CommonOptions.Threads();
        var cmd = new Command("optimizers",
            "Six optimizers by hand on f = x0²/20 + x1² (seed Q3): one trajectory, or the race of all six with figures")
            { optimizer, impl, lr, momentum, dampening, alpha, beta1, beta2, eps, weightDecay, nesterovForm, start, steps, grad, seed,
                format, outDir, threads };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            CommonOptions.Setup(p.GetValue(threads), "cpu");
            double[] x0 = p.GetValue(start) is string s ? ParseStart(s) : OptimizersLab.DrawStart(p.GetValue(seed));
            int n = p.GetValue(steps);
            if (n < 0) throw new UsageException($"--steps {n}: expected a whole number >= 0");
            bool json = p.GetValue(format) == "json";
            string? name = p.GetValue(optimizer);
            if (name is null)
            {
                if (CommonOptions.ValidateOnly.Value) return Outcome.Ok;
                var race = StatusLine.Around(status => OptimizersLab.Race(x0, n, status));
                if (json)
                {
                    Json.Print(new
                    {
                        start = x0,
                        steps = n,
                        race = race.Rows.Select(r => new
                        {
                            optimizer = r.Spec.Name, settings = r.Spec.Describe(), finalF = r.FinalF, stepsToTarget = r.StepsToTarget,
                            handDisagreesAtStep = r.HandDisagrees, referenceDisagreesAtStep = r.ReferenceDisagrees,
                            analyticVsNumerical = r.AnalyticVsNumerical,
                        }),
                        nesterovFormsMaxRelError = race.Nesterov.MaxRelError,
                    });
                    return Outcome.Ok;
                }
                string dir = p.GetValue(outDir)!;
                SectionCommand.PrintBlocks("Optimizer race", OptimizersReportLab.RaceBlocks(race).ToList(), dir);
                return Outcome.Ok;
            }

            var spec = OptimizerSpec.SeedDefaults(name);
            spec = spec with
            {
                Lr = p.GetValue(lr) ?? spec.Lr,
                Momentum = p.GetValue(momentum) ?? spec.Momentum,
                Dampening = p.GetValue(dampening),
                Alpha = p.GetValue(alpha) ?? spec.Alpha,
                Beta1 = p.GetValue(beta1) ?? spec.Beta1,
                Beta2 = p.GetValue(beta2) ?? spec.Beta2,
                Eps = p.GetValue(eps),
                WeightDecay = p.GetValue(weightDecay),
                NesterovForm = p.GetValue(nesterovForm) == "lookahead" ? NesterovForm.LookAhead : NesterovForm.Torch,
            };
            var implementation = Enum.Parse<OptimizerImpl>(p.GetValue(impl)!, ignoreCase: true);
            spec.Validate();
            if (CommonOptions.ValidateOnly.Value) return Outcome.Ok;
            var path = OptimizersLab.Run(spec, implementation, x0, n, p.GetValue(grad) == "numerical"
                ? GradMode.Numerical : GradMode.Analytic);
            int bad = Array.FindIndex(path.Points, x => x.Any(v => !double.IsFinite(v)));
            if (bad >= 0)
                throw new LabFailedException($"{spec.Describe()}: diverged: x is not finite from step {bad} (f at step {bad - 1}: " +
                    $"{path.Loss[bad - 1]:G6}); try a smaller --lr");
            if (json)
            {
                Json.Print(new { optimizer = path.Optimizer, impl = path.Impl, trajectory = path.Points, loss = path.Loss });
                return Outcome.Ok;
            }
            Console.Out.WriteLine($"{spec.Describe()}, impl {path.Impl}, from ({x0[0]:G6}, {x0[1]:G6})");
            int every = Math.Max(1, n / 20);
            for (int t = 0; t <= n; t += every)
                Console.Out.WriteLine($"t {t,7}  x = ({path.Points[t][0],14:G8}, {path.Points[t][1],14:G8})  f = {path.Loss[t]:G8}");
            if (n % every != 0) Console.Out.WriteLine($"t {n,7}  x = ({path.Points[n][0],14:G8}, {path.Points[n][1],14:G8})  f = " +
                $"{path.Loss[n]:G8}");
            return Outcome.Ok;
        }));
        return cmd;
    }

    /// <summary>Parses "X0,X1" into two finite doubles.</summary>
    public static double[] ParseStart(string s)
    {
        string[] parts = s.Split(',');
        var values = new double[parts.Length];
        if (parts.Length != 2 || !parts.Select((v, i) => double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture,
            out values[i])).All(ok => ok)
            || values.Any(v => !double.IsFinite(v)))
            throw new UsageException($"--start {s}: expected two finite numbers X0,X1 (for example --start 3.5,-2)");
        return values;
    }
}
