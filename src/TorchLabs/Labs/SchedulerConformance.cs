using TorchLabs.Reference;
using TorchLabs.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;

namespace TorchLabs.Labs;

/// <summary>
/// #28, schedulers: TorchSharp 0.107's <c>torch.optim.lr_scheduler</c> (C# re-implementations) attached to SGD, beside the hand
/// references of PyTorch's (<see cref="SchedulerReference"/>): the learning rate before the first step and after every
/// <c>scheduler.step()</c>, and the momentum where a scheduler cycles it.
/// </summary>
public static class SchedulerConformance
{
    /// <summary>The learning-rate functions a setting can name (<c>lr_lambda=pow095</c>), the same as the golden script's.</summary>
    public static readonly IReadOnlyDictionary<string, Func<int, double>> Lambdas = new Dictionary<string, Func<int, double>>
    {
        ["pow095"] = e => Math.Pow(0.95, e), ["inv"] = e => 1.0 / (1 + e), ["const09"] = _ => 0.9,
    };

    /// <summary>The metric sequence ReduceLROnPlateau is stepped with when none is given (the golden script's).</summary>
    public static readonly double[] DefaultMetrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.85, 0.86, 0.86, 0.87, 0.88, 0.7, 0.71, 0.72, 0.73,
        0.74, 0.75, 0.6, 0.61, 0.62, 0.63];

    /// <summary>Learning rates and momenta, the value before the first step first.</summary>
    public sealed record Schedule(double[] Lr, double[] Momentum);

    /// <summary>TorchSharp's scheduler <paramref name="name"/> on <paramref name="opt"/>.</summary>
    public static LRScheduler CreateTorchSharp(string name, optim.Optimizer opt, SchedSettings s) => name switch
    {
        "StepLR" => StepLR(opt, s.Int("step_size", 1), s.Num("gamma", 0.1)),
        "MultiStepLR" => MultiStepLR(opt, s.Ints("milestones"), s.Num("gamma", 0.1)),
        "ConstantLR" => ConstantLR(opt, s.Num("factor", 1.0 / 3), s.Int("total_iters", 5)),
        "LinearLR" => LinearLR(opt, s.Num("start_factor", 1.0 / 3), s.Num("end_factor", 1.0), s.Int("total_iters", 5)),
        "ExponentialLR" => ExponentialLR(opt, s.Num("gamma", 0.1)),
        "PolynomialLR" => PolynomialLR(opt, s.Int("total_iters", 5), s.Num("power", 1.0)),
        "CosineAnnealingLR" => CosineAnnealingLR(opt, s.Num("T_max", 1), s.Num("eta_min", 0)),
        "LambdaLR" => LambdaLR(opt, s.Lambda("lr_lambda")),
        "MultiplicativeLR" => MultiplicativeLR(opt, s.Lambda("lr_lambda")),
        "SequentialLR" => SequentialLR(opt, [.. s.Parts.Select(p => CreateTorchSharp(p.Name, opt, p.Settings))], s.Ints("milestones")),
        "ChainedScheduler" => ChainedLR([.. s.Parts.Select(p => CreateTorchSharp(p.Name, opt, p.Settings))]),
        "ReduceLROnPlateau" => ReduceLROnPlateau(opt, s.Text("mode", "min"), s.Num("factor", 0.1), s.Int("patience", 10),
            s.Num("threshold", 1e-4), s.Text("threshold_mode", "rel"), s.Int("cooldown", 0), [s.Num("min_lr", 0)], s.Num("eps", 1e-8)),
        "CyclicLR" => CyclicLR(opt, s.Num("base_lr", double.NaN), s.Num("max_lr", double.NaN), s.Int("step_size_up", 2000),
            s.Int("step_size_down", -1), s.Text("mode", "triangular") switch
            {
                "triangular" => impl.CyclicLR.Mode.Triangular, "triangular2" => impl.CyclicLR.Mode.Triangular2,
                _ => impl.CyclicLR.Mode.ExpRange,
            }, s.Num("gamma", 1.0), cycle_momentum: s.Flag("cycle_momentum", true), base_momentum: s.Num("base_momentum", 0.8),
            max_momentum: s.Num("max_momentum", 0.9)),
        "OneCycleLR" => OneCycleLR(opt, s.Num("max_lr", double.NaN), s.Int("total_steps", -1), s.Int("epochs", -1),
            s.Int("steps_per_epoch", -1), s.Num("pct_start", 0.3), s.Text("anneal_strategy", "cos") == "cos"
                ? impl.OneCycleLR.AnnealStrategy.Cos : impl.OneCycleLR.AnnealStrategy.Linear, s.Flag("cycle_momentum", true),
            s.Num("base_momentum", 0.85), s.Num("max_momentum", 0.95), s.Num("div_factor", 25), s.Num("final_div_factor", 1e4),
            s.Flag("three_phase", false)),
        _ => throw new UsageException($"{name}: no such scheduler; expected one of {string.Join(", ", SchedulerReference.Names)}"),
    };

    /// <summary>TorchSharp's scheduler on SGD(lr, momentum): <paramref name="steps"/> steps.</summary>
    public static Schedule RunTorchSharp(string name, SchedSettings s, double lr, double momentum, int steps, double[]? metrics = null)
    {
        using var p = new Parameter(zeros(2));
        using var opt = optim.SGD([p], lr, momentum);
        var sched = CreateTorchSharp(name, opt, s);
        var group = opt.ParamGroups.First();
        double Momentum() => (group as optim.IMomentum)?.Momentum ?? (opt as optim.IMomentum)?.Momentum ?? double.NaN;
        var (lrs, moms) = (new List<double> { group.LearningRate }, new List<double> { Momentum() });
        for (int t = 0; t < steps; t++)
        {
            opt.step();
            if (name == "ReduceLROnPlateau") sched.step(Metric(metrics, t)); else sched.step();
            lrs.Add(group.LearningRate);
            moms.Add(Momentum());
        }
        return new Schedule([.. lrs], [.. moms]);
    }

    static double Metric(double[]? metrics, int t)
    {
        var m = metrics ?? DefaultMetrics;
        return t < m.Length ? m[t] : m[^1];
    }

    /// <summary>The hand reference on the same group: <paramref name="steps"/> steps.</summary>
    public static Schedule RunReference(string name, SchedSettings s, double lr, double momentum, int steps, double[]? metrics = null)
    {
        var group = new LrGroup(lr, momentum);
        var sched = SchedulerReference.Create(name, group, s);
        var (lrs, moms) = (new List<double> { group.Lr }, new List<double> { group.Momentum });
        for (int t = 0; t < steps; t++)
        {
            if (name == "ReduceLROnPlateau") sched.Step(Metric(metrics, t)); else sched.Step();
            lrs.Add(group.Lr);
            moms.Add(group.Momentum);
        }
        return new Schedule([.. lrs], [.. moms]);
    }

    /// <summary>A difference of TorchSharp's from PyTorch's: which sequence (lr or momentum), from which step, and why.</summary>
    public sealed record Difference(string Quantity, int FirstStep, string Cause);

    /// <summary>
    /// The known upstream differences of TorchSharp 0.107's schedulers for these settings (empty: none known), each with the line
    /// of TorchSharp's src/TorchSharp/Optimizers/LRScheduler.cs and PyTorch's (torch/optim/lr_scheduler.py).
    /// </summary>
    public static IReadOnlyList<Difference> KnownDifferences(string name, SchedSettings s)
    {
        var list = new List<Difference>();
        if (name == "MultiStepLR" && s.Ints("milestones").GroupBy(m => m).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            list.Add(new("lr", repeated.Key, "MultiStepLR applies γ once at a milestone given several times (LRScheduler.cs, " +
                "MultiStepLR.get_lr: `_milestones.IndexOf(_last_epoch)` then `LearningRate * _gamma`; PyTorch: " +
                "`group['lr'] * self.gamma ** self.milestones[self.last_epoch]` over a Counter of the milestones)"));
        if (name == "CyclicLR" && s.Flag("cycle_momentum", true))
            list.Add(new("momentum", 1, "CyclicLR cycles the momentum the wrong way (LRScheduler.cs line 961-963: `_max_momentum[i] + " +
                "base_height * _scale_func(…)`; PyTorch: `max_momentum - base_height * self.scale_fn(…)`): it rises above max_momentum " +
                "while the learning rate rises, instead of falling to base_momentum"));
        if (name == "CyclicLR" && s.Text("mode", "triangular") == "exp_range")
            list.Add(new("lr", 2, "CyclicLR's exp_range scales by γ^cycle instead of γ^iteration (LRScheduler.cs line 920: " +
                "`_scale_mode = ScaleMode.Cycle` for Mode.ExpRange; PyTorch: `self.scale_mode = 'iterations'` for exp_range)"));
        return list;
    }

    /// <summary>Largest relative difference of two sequences and the first index above <paramref name="tolerance"/>.</summary>
    public static (double Max, int? First) Compare(double[] a, double[] b, double tolerance = 1e-12)
    {
        double max = 0;
        int? first = null;
        for (int k = 0; k < Math.Min(a.Length, b.Length); k++)
        {
            double d = Math.Abs(a[k] - b[k]), rel = b[k] == 0 ? d : d / Math.Abs(b[k]);
            if (double.IsNaN(rel)) rel = double.PositiveInfinity;
            max = Math.Max(max, rel);
            if (rel > tolerance && first is null) first = k;
        }
        return (max, first);
    }
}
