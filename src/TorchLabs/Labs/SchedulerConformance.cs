using System.Globalization;
using TorchLabs.Reference;
using TorchSharp.Modules;
using static TorchSharp.torch.optim.lr_scheduler;

namespace TorchLabs.Labs;

/// <summary>
/// #28, schedulers: TorchSharp 0.107's <c>torch.optim.lr_scheduler</c> (C# re-implementations) attached to SGD, beside
/// the hand references of PyTorch's (<see cref="SchedulerReference"/>): the learning rate before the first step and
/// after every <c>scheduler.step()</c>, and the momentum where a scheduler cycles it.
/// </summary>
public static class SchedulerConformance
{
    /// <summary>The learning-rate functions a setting can name (<c>lr_lambda=pow095</c>), the same as the golden
    /// script's.</summary>
    public static readonly IReadOnlyDictionary<string, Func<int, double>> Lambdas = new Dictionary<
        string,
        Func<int, double>
    >
    {
        ["pow095"] = e => Math.Pow(0.95, e),
        ["inv"] = e => 1.0 / (1 + e),
        ["const09"] = _ => 0.9,
    };

    /// <summary>The metric sequence ReduceLROnPlateau is stepped with when none is given (the golden
    /// script's).</summary>
    public static readonly double[] DefaultMetrics =
    [
        1.0,
        0.9,
        0.95,
        0.96,
        0.97,
        0.85,
        0.86,
        0.86,
        0.87,
        0.88,
        0.7,
        0.71,
        0.72,
        0.73,
        0.74,
        0.75,
        0.6,
        0.61,
        0.62,
        0.63,
    ];

    /// <summary>Learning rates and momenta, the value before the first step first.</summary>
    public sealed record Schedule(double[] Lr, double[] Momentum);

    /// <summary>TorchSharp's scheduler <paramref name="name"/> on <paramref name="opt"/>.</summary>
    public static LRScheduler CreateTorchSharp(string name, optim.Optimizer opt, SchedSettings s) =>
        name switch
        {
            "StepLR" => StepLR(opt, s.Int("step_size", 1), s.Num("gamma", 0.1)),
            "MultiStepLR" => MultiStepLR(opt, s.Ints("milestones"), s.Num("gamma", 0.1)),
            "ConstantLR" => ConstantLR(opt, s.Num("factor", 1.0 / 3), s.Int("total_iters", 5)),
            "LinearLR" => LinearLR(
                opt,
                s.Num("start_factor", 1.0 / 3),
                s.Num("end_factor", 1.0),
                s.Int("total_iters", 5)
            ),
            "ExponentialLR" => ExponentialLR(opt, s.Num("gamma", 0.1)),
            "PolynomialLR" => PolynomialLR(opt, s.Int("total_iters", 5), s.Num("power", 1.0)),
            "CosineAnnealingLR" => CosineAnnealingLR(opt, s.Num("T_max", 1), s.Num("eta_min", 0)),
            "LambdaLR" => LambdaLR(opt, s.Lambda("lr_lambda")),
            "MultiplicativeLR" => MultiplicativeLR(opt, s.Lambda("lr_lambda")),
            "SequentialLR" => SequentialLR(
                opt,
                [.. s.Parts.Select(p => CreateTorchSharp(p.Name, opt, p.Settings))],
                s.Ints("milestones")
            ),
            "ChainedScheduler" => ChainedLR([.. s.Parts.Select(p => CreateTorchSharp(p.Name, opt, p.Settings))]),
            "ReduceLROnPlateau" => PlateauOf(opt, s),
            "CyclicLR" => CyclicOf(opt, s),
            "OneCycleLR" => OneCycleOf(opt, s),
            _ => throw new UsageException(
                $"{name}: no such scheduler; expected one of {string.Join(", ", SchedulerReference.Names)}"
            ),
        };

    /// <summary>TorchSharp's ReduceLROnPlateau with PyTorch's defaults.</summary>
    static LRScheduler PlateauOf(optim.Optimizer opt, SchedSettings s) =>
        ReduceLROnPlateau(
            opt,
            s.Text("mode", "min"),
            s.Num("factor", 0.1),
            s.Int("patience", 10),
            s.Num("threshold", 1e-4),
            s.Text("threshold_mode", "rel"),
            s.Int("cooldown", 0),
            [s.Num("min_lr", 0)],
            s.Num("eps", 1e-8)
        );

    /// <summary>TorchSharp's CyclicLR with PyTorch's defaults (its momentum cycled unless
    /// cycle_momentum=false).</summary>
    static LRScheduler CyclicOf(optim.Optimizer opt, SchedSettings s) =>
        CyclicLR(
            opt,
            s.Num("base_lr", double.NaN),
            s.Num("max_lr", double.NaN),
            s.Int("step_size_up", 2000),
            s.Int("step_size_down", -1),
            s.Text("mode", "triangular") switch
            {
                "triangular" => impl.CyclicLR.Mode.Triangular,
                "triangular2" => impl.CyclicLR.Mode.Triangular2,
                _ => impl.CyclicLR.Mode.ExpRange,
            },
            s.Num("gamma", 1.0),
            cycle_momentum: s.Flag("cycle_momentum", true),
            base_momentum: s.Num("base_momentum", 0.8),
            max_momentum: s.Num("max_momentum", 0.9)
        );

    /// <summary>TorchSharp's OneCycleLR with PyTorch's defaults.</summary>
    static LRScheduler OneCycleOf(optim.Optimizer opt, SchedSettings s) =>
        OneCycleLR(
            opt,
            s.Num("max_lr", double.NaN),
            s.Int("total_steps", -1),
            s.Int("epochs", -1),
            s.Int("steps_per_epoch", -1),
            s.Num("pct_start", 0.3),
            s.Text("anneal_strategy", "cos") == "cos"
                ? impl.OneCycleLR.AnnealStrategy.Cos
                : impl.OneCycleLR.AnnealStrategy.Linear,
            s.Flag("cycle_momentum", true),
            s.Num("base_momentum", 0.85),
            s.Num("max_momentum", 0.95),
            s.Num("div_factor", 25),
            s.Num("final_div_factor", 1e4),
            s.Flag("three_phase", false)
        );

    /// <summary>One scheduler on SGD(<see cref="Lr"/>, <see cref="Momentum"/>) for <see cref="Steps"/> steps;
    /// ReduceLROnPlateau reads <see cref="Metrics"/> (the last repeats; null: the default series).</summary>
    public sealed record Run(
        string Name,
        SchedSettings Settings,
        double Lr,
        double Momentum,
        int Steps,
        double[]? Metrics = null
    );

    /// <summary>TorchSharp's scheduler on SGD(lr, momentum).</summary>
    public static Schedule RunTorchSharp(Run run)
    {
        using var p = new Parameter(zeros(2));
        using var opt = optim.SGD([p], run.Lr, run.Momentum);
        var sched = CreateTorchSharp(run.Name, opt, run.Settings);
        var group = opt.ParamGroups.First();
        double Momentum() => (group as optim.IMomentum)?.Momentum ?? (opt as optim.IMomentum)?.Momentum ?? double.NaN;
        return Trace(
            run,
            () => (group.LearningRate, Momentum()),
            metric =>
            {
                WithoutCollection.Run(() => opt.step());
                if (metric is double m)
                    sched.step(m);
                else
                    sched.step();
            }
        );
    }

    /// <summary>The hand reference on the same group.</summary>
    public static Schedule RunReference(Run run)
    {
        var group = new LrGroup(run.Lr, run.Momentum);
        var sched = SchedulerReference.Create(run.Name, group, run.Settings);
        return Trace(
            run,
            () => (group.Lr, group.Momentum),
            metric =>
            {
                if (metric is double m)
                    sched.Step(m);
                else
                    sched.Step();
            }
        );
    }

    /// <summary>The group's learning rate and momentum before the first step and after each of the run's steps;
    /// <paramref name="step"/> is given the step's metric (ReduceLROnPlateau) or null.</summary>
    static Schedule Trace(Run run, Func<(double Lr, double Momentum)> read, Action<double?> step)
    {
        var (lr0, momentum0) = read();
        var (lrs, moms) = (new List<double> { lr0 }, new List<double> { momentum0 });
        for (int t = 0; t < run.Steps; t++)
        {
            step(run.Name == "ReduceLROnPlateau" ? Metric(run.Metrics, t) : null);
            var (lr, momentum) = read();
            lrs.Add(lr);
            moms.Add(momentum);
        }
        return new Schedule([.. lrs], [.. moms]);
    }

    static double Metric(double[]? metrics, int t)
    {
        var m = metrics ?? DefaultMetrics;
        return t < m.Length ? m[t] : m[^1];
    }

    /// <summary>The keywords of each scheduler, as PyTorch spells them, and their kinds: int, num, ints (a list), bool,
    /// lambda, parts (SequentialLR, ChainedScheduler) or one of the words after "text:".</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Keywords = new Dictionary<
        string,
        IReadOnlyDictionary<string, string>
    >
    {
        ["StepLR"] = K(("step_size", "int"), ("gamma", "num")),
        ["MultiStepLR"] = K(("milestones", "ints"), ("gamma", "num")),
        ["ConstantLR"] = K(("factor", "num"), ("total_iters", "int")),
        ["LinearLR"] = K(("start_factor", "num"), ("end_factor", "num"), ("total_iters", "int")),
        ["ExponentialLR"] = K(("gamma", "num")),
        ["PolynomialLR"] = K(("total_iters", "int"), ("power", "num")),
        ["CosineAnnealingLR"] = K(("T_max", "num"), ("eta_min", "num")),
        ["LambdaLR"] = K(("lr_lambda", "lambda")),
        ["MultiplicativeLR"] = K(("lr_lambda", "lambda")),
        ["SequentialLR"] = K(("schedulers", "parts"), ("milestones", "ints")),
        ["ChainedScheduler"] = K(("schedulers", "parts")),
        ["ReduceLROnPlateau"] = K(
            ("mode", "text:min,max"),
            ("factor", "num"),
            ("patience", "int"),
            ("threshold", "num"),
            ("threshold_mode", "text:rel,abs"),
            ("cooldown", "int"),
            ("min_lr", "num"),
            ("eps", "num")
        ),
        ["CyclicLR"] = K(
            ("base_lr", "num"),
            ("max_lr", "num"),
            ("step_size_up", "int"),
            ("step_size_down", "int"),
            ("mode", "text:triangular,triangular2,exp_range"),
            ("gamma", "num"),
            ("cycle_momentum", "bool"),
            ("base_momentum", "num"),
            ("max_momentum", "num")
        ),
        ["OneCycleLR"] = K(
            ("max_lr", "num"),
            ("total_steps", "int"),
            ("epochs", "int"),
            ("steps_per_epoch", "int"),
            ("pct_start", "num"),
            ("anneal_strategy", "text:cos,linear"),
            ("cycle_momentum", "bool"),
            ("base_momentum", "num"),
            ("max_momentum", "num"),
            ("div_factor", "num"),
            ("final_div_factor", "num"),
            ("three_phase", "bool")
        ),
    };

    static IReadOnlyDictionary<string, string> K(params (string Key, string Kind)[] kinds) =>
        kinds.ToDictionary(k => k.Key, k => k.Kind);

    /// <summary>The keywords a scheduler cannot do without.</summary>
    static readonly Dictionary<string, string[]> Required = new()
    {
        ["StepLR"] = ["step_size"],
        ["MultiStepLR"] = ["milestones"],
        ["CosineAnnealingLR"] = ["T_max"],
        ["LambdaLR"] = ["lr_lambda"],
        ["MultiplicativeLR"] = ["lr_lambda"],
        ["SequentialLR"] = ["schedulers", "milestones"],
        ["ChainedScheduler"] = ["schedulers"],
        ["CyclicLR"] = ["base_lr", "max_lr"],
        ["OneCycleLR"] = ["max_lr"],
    };

    /// <summary>The scheduler's name as PyTorch spells it, from any case (ChainedLR, TorchSharp's name, too).</summary>
    /// <summary>The most parts of a SequentialLR or ChainedScheduler (5,000 parts × 100,000 steps ran 87 s).</summary>
    public const int MaxParts = 32;

    public static string Name(string given) =>
        given.Equals("ChainedLR", StringComparison.OrdinalIgnoreCase)
            ? "ChainedScheduler"
            : SchedulerReference.Names.FirstOrDefault(n => n.Equals(given, StringComparison.OrdinalIgnoreCase))
                ?? throw new UsageException(
                    $"conformance scheduler {Printable.Quote(given)}: unknown; expected one of "
                        + string.Join(", ", SchedulerReference.Names)
                );

    /// <summary>
    /// KEY=VALUE settings in PyTorch's words: numbers, whole numbers, lists (milestones=3,6,9), true/false, words
    /// (mode=exp_range), lr_lambda=pow:G (G^epoch), inv (1/(1 + epoch)) or const:C, and parts as
    /// NAME(KEY=VALUE;…)+NAME(…) (SequentialLR, ChainedScheduler). Unknown keys, ill-typed or out-of-range values: <see
    /// cref="UsageException"/> listing what is accepted.
    /// </summary>
    public static SchedSettings Parse(string name, IEnumerable<string> items)
    {
        name = Name(name); // PyTorch's spelling; an unknown name is refused in one line
        var kinds = Keywords[name];
        var values = new Dictionary<string, object>();
        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            string key = eq < 0 ? item : item[..eq],
                text = eq < 0 ? "" : item[(eq + 1)..];
            if (!kinds.TryGetValue(key, out string? kind))
                throw new UsageException(
                    $"‹set› {Printable.Quote(item)}: {name} has no keyword {Printable.Quote(key)}; expected one of "
                        + string.Join(", ", kinds.Keys)
                );
            if (values.ContainsKey(key))
                throw new UsageException($"‹set› {key}: given twice; give each keyword once");
            values[key] = Value(name, key, kind, text);
        }
        foreach (string key in Required.GetValueOrDefault(name) ?? [])
            if (!values.ContainsKey(key))
                throw new UsageException($"{name}: ‹set› {key}=VALUE is required (as in PyTorch)");
        CheckTogether(name, values);
        var s = new SchedSettings(values);
        string? refused = PyTorchRefuses(name, s);
        return refused is null ? s : throw new UsageException($"{name}: {refused} (PyTorch refuses it too)");
    }

    /// <summary>PyTorch's own checks (its messages), so that no setting PyTorch refuses gets numbers here.</summary>
    static string? PyTorchRefuses(string name, SchedSettings s) =>
        name switch
        {
            "StepLR" when s.Int("step_size", 1) == 0 => "step_size must be at least 1 (a period of 0 epochs)",
            "ConstantLR" when s.Num("factor", 1.0 / 3) > 1 =>
                "Constant multiplicative factor expected to be between 0 and 1.",
            "LinearLR" when s.Num("start_factor", 1.0 / 3) is <= 0 or > 1 =>
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.",
            "LinearLR" when s.Num("end_factor", 1) > 1 =>
                "Ending multiplicative factor expected to be between 0 and 1.",
            "LinearLR" or "PolynomialLR" or "ConstantLR" when s.Int("total_iters", 5) == 0 =>
                "total_iters must be at least 1",
            // PyTorch 1.13 takes factor=0, then divides by it at total_iters: ZeroDivisionError.
            "ConstantLR" when s.Num("factor", 1.0 / 3) == 0 =>
                "factor=0 is divided by at total_iters (ZeroDivisionError)",
            "CosineAnnealingLR" when s.Num("T_max", 1) == 0 => "T_max must be greater than 0",
            "ReduceLROnPlateau" when s.Num("factor", 0.1) >= 1 => "Factor should be < 1.0.",
            "CyclicLR" when s.Int("step_size_up", 2000) == 0 => "step_size_up must be at least 1",
            "OneCycleLR" when s.Num("pct_start", 0.3) > 1 => "Expected float between 0 and 1 pct_start",
            "OneCycleLR" when s.Num("div_factor", 25) == 0 || s.Num("final_div_factor", 1e4) == 0 =>
                "div factors must be greater than 0",
            _ => null,
        };

    /// <summary>The keywords that are judged together: OneCycleLR's length, SequentialLR's parts and
    /// milestones.</summary>
    static void CheckTogether(string name, Dictionary<string, object> values)
    {
        bool perEpoch = values.ContainsKey("epochs") && values.ContainsKey("steps_per_epoch");
        if (
            name == "OneCycleLR"
            && perEpoch
            && (long)(int)values["epochs"] * (int)values["steps_per_epoch"] > int.MaxValue
        )
            throw new UsageException($"OneCycleLR: epochs × steps_per_epoch is more than {int.MaxValue} steps");
        if (name == "OneCycleLR" && !values.ContainsKey("total_steps") && !perEpoch)
            throw new UsageException("OneCycleLR: expected ‹set› total_steps=N, or epochs=E and steps_per_epoch=S");
        if (
            name == "SequentialLR"
            && ((IReadOnlyList<(string, SchedSettings)>)values["schedulers"]).Count
                != ((int[])values["milestones"]).Length + 1
        )
            throw new UsageException("SequentialLR: expected one more scheduler than milestones");
    }

    /// <summary>A finite number in invariant culture.</summary>
    static bool Number(string t, out double v) =>
        double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v);

    /// <summary>A lr_lambda: pow:G, inv or const:C (named functions, not code).</summary>
    static Func<int, double> Lambda(string bad, string text)
    {
        if (Lambdas.TryGetValue(text, out var f)) // inv, or the golden grid's pow095 and const09
            return f;
        if (text.StartsWith("pow:") && Number(text[4..], out double g))
            return e => Math.Pow(g, e);
        if (text.StartsWith("const:") && Number(text[6..], out double c))
            return _ => c;
        throw new UsageException($"{bad}: expected pow:G (G^epoch), inv (1/(1 + epoch)) or const:C");
    }

    /// <summary>The parts of SequentialLR or ChainedScheduler: NAME(KEY=VALUE;…)+NAME(…), at most MaxParts.</summary>
    static IReadOnlyList<(string, SchedSettings)> Parts(string name, string bad, string text)
    {
        var list = new List<(string, SchedSettings)>();
        string[] given = text.Split('+');
        if (given.Length > MaxParts)
            throw new UsageException($"{bad}: {given.Length} parts; at most {MaxParts}");
        foreach (string part in given)
        {
            int open = part.IndexOf('(');
            if (open < 0 || !part.EndsWith(')'))
                throw new UsageException($"{bad}: expected NAME(KEY=VALUE;…)+NAME(…)");
            string inner = Name(part[..open]);
            if (inner is "SequentialLR" or "ChainedScheduler" or "ReduceLROnPlateau")
                throw new UsageException($"{bad}: {inner} cannot be a part of {name}");
            list.Add((inner, Parse(inner, part[(open + 1)..^1].Split(';', StringSplitOptions.RemoveEmptyEntries))));
        }
        return list;
    }

    static object Value(string name, string key, string kind, string text)
    {
        string bad = $"‹set› {key}={Printable.Quote(text)}";
        switch (kind)
        {
            case "int":
                return int.TryParse(text, out int i) && i >= 0
                    ? i
                    : throw new UsageException($"{bad}: expected a whole number ≥ 0");
            case "num":
                return Number(text, out double d) && d >= 0
                    ? d
                    : throw new UsageException($"{bad}: expected a finite number ≥ 0");
            case "ints":
                var parts = text.Split(',');
                var ints = new int[parts.Length];
                return
                    parts.Select((p, n) => int.TryParse(p, out ints[n]) && ints[n] >= 0).All(ok => ok)
                    && text.Length > 0
                    ? ints
                    : throw new UsageException($"{bad}: expected whole numbers ≥ 0 separated by commas");
            case "bool":
                return text.ToLowerInvariant() switch
                {
                    "true" or "1" => true,
                    "false" or "0" => false,
                    _ => throw new UsageException($"{bad}: expected true or false"),
                };
            case "lambda":
                return Lambda(bad, text);
            case "parts":
                return Parts(name, bad, text);
            default:
                string[] words = kind[5..].Split(',');
                return words.Contains(text)
                    ? text
                    : throw new UsageException($"{bad}: expected one of {string.Join(", ", words)}");
        }
    }

    /// <summary>The grid of `torchlabs conformance` for schedulers (the golden script's, in --set form): name,
    /// settings, steps, SGD momentum.</summary>
    public static readonly IReadOnlyList<(string Name, string[] Settings, int Steps, double Momentum)> Grid =
    [
        ("StepLR", ["step_size=3", "gamma=0.5"], 12, 0),
        ("StepLR", ["step_size=2"], 8, 0),
        ("MultiStepLR", ["milestones=2,5,9", "gamma=0.5"], 12, 0),
        ("MultiStepLR", ["milestones=3,3,7", "gamma=0.5"], 12, 0),
        ("ConstantLR", ["factor=0.5", "total_iters=4"], 12, 0),
        ("ConstantLR", [], 15, 0),
        ("LinearLR", ["start_factor=0.25", "end_factor=1", "total_iters=5"], 15, 0),
        ("LinearLR", ["start_factor=1", "end_factor=0.1", "total_iters=4"], 12, 0),
        ("LinearLR", [], 15, 0),
        ("ExponentialLR", ["gamma=0.9"], 12, 0),
        ("PolynomialLR", ["total_iters=6", "power=1"], 18, 0),
        ("PolynomialLR", ["total_iters=6", "power=2"], 18, 0),
        ("CosineAnnealingLR", ["T_max=5", "eta_min=0.01"], 20, 0),
        ("CosineAnnealingLR", ["T_max=4"], 16, 0),
        ("LambdaLR", ["lr_lambda=pow:0.95"], 12, 0),
        ("LambdaLR", ["lr_lambda=inv"], 12, 0),
        ("MultiplicativeLR", ["lr_lambda=const:0.9"], 12, 0),
        (
            "SequentialLR",
            ["schedulers=ConstantLR(factor=0.5;total_iters=2)+ExponentialLR(gamma=0.9)", "milestones=3"],
            12,
            0
        ),
        (
            "SequentialLR",
            ["schedulers=LinearLR(start_factor=0.25;total_iters=3)+CosineAnnealingLR(T_max=6)", "milestones=4"],
            18,
            0
        ),
        ("ChainedScheduler", ["schedulers=ConstantLR(factor=0.5;total_iters=3)+ExponentialLR(gamma=0.9)"], 12, 0),
        ("ReduceLROnPlateau", ["patience=1", "factor=0.5"], 20, 0),
        ("ReduceLROnPlateau", ["mode=max", "threshold_mode=abs", "threshold=0.01", "patience=0", "factor=0.5"], 20, 0),
        ("ReduceLROnPlateau", ["patience=1", "cooldown=2", "min_lr=0.02", "factor=0.5"], 20, 0),
        ("ReduceLROnPlateau", ["patience=0", "factor=0.5", "threshold=0.1", "eps=0.01"], 20, 0),
        ("CyclicLR", ["base_lr=0.01", "max_lr=0.1", "step_size_up=3"], 18, 0.9),
        ("CyclicLR", ["base_lr=0.01", "max_lr=0.1", "step_size_up=3", "step_size_down=5", "mode=triangular2"], 24, 0.9),
        ("CyclicLR", ["base_lr=0.01", "max_lr=0.1", "step_size_up=2", "mode=exp_range", "gamma=0.9"], 16, 0.9),
        ("CyclicLR", ["base_lr=0.01", "max_lr=0.1", "step_size_up=3", "cycle_momentum=false"], 18, 0.9),
        (
            "CyclicLR",
            ["base_lr=0.01", "max_lr=0.1", "step_size_up=3", "base_momentum=0.7", "max_momentum=0.95"],
            18,
            0.9
        ),
        ("OneCycleLR", ["max_lr=0.1", "total_steps=20"], 19, 0.9),
        ("OneCycleLR", ["max_lr=0.1", "total_steps=20", "anneal_strategy=linear"], 19, 0.9),
        ("OneCycleLR", ["max_lr=0.1", "total_steps=20", "three_phase=true", "pct_start=0.25"], 19, 0.9),
        (
            "OneCycleLR",
            ["max_lr=0.1", "epochs=4", "steps_per_epoch=5", "div_factor=10", "final_div_factor=100"],
            19,
            0.9
        ),
        ("OneCycleLR", ["max_lr=0.1", "total_steps=20", "cycle_momentum=false"], 19, 0.9),
    ];

    /// <summary>One table row per scheduler: the grid run through TorchSharp and the reference.</summary>
    public static IReadOnlyList<ConformanceGrid.Row> RunGrid(IProgress<string>? progress = null)
    {
        var rows = new List<ConformanceGrid.Row>();
        foreach (var group in Grid.GroupBy(g => g.Name))
        {
            progress?.Report($"conformance: {group.Key}");
            double max = 0;
            var causes = new List<string>();
            foreach (var (name, set, steps, momentum) in group)
            {
                var s = Parse(name, set);
                var run = new Run(name, s, 0.1, momentum, steps);
                var (t, r) = (RunTorchSharp(run), RunReference(run));
                var known = KnownDifferences(name, s);
                foreach (var (quantity, a, b) in new[] { ("lr", t.Lr, r.Lr), ("momentum", t.Momentum, r.Momentum) })
                {
                    var (m, first) = Compare(a, b);
                    max = Math.Max(max, m);
                    if (first is null)
                        continue;
                    string cause = known.FirstOrDefault(k => k.Quantity == quantity)?.Cause
                        ?? $"unexplained {quantity}, from step {first}";
                    if (!causes.Contains(cause))
                        causes.Add(cause);
                }
            }
            rows.Add(
                new(
                    group.Key,
                    group.Count(),
                    group.Sum(g => g.Steps),
                    max,
                    causes.Count == 0 ? "agrees" : "differs: " + string.Join("; ", causes)
                )
            );
        }
        return rows;
    }

    /// <summary>A difference of TorchSharp's from PyTorch's: which sequence (lr or momentum), from which step, and
    /// why.</summary>
    public sealed record Difference(string Quantity, int FirstStep, string Cause);

    /// <summary>One scheduler run by TorchSharp and by the reference, side by side (`torchlabs conformance
    /// scheduler`).</summary>
    /// <param name="WithMomentum">Whether the momentum is compared: where SGD has one, or where the scheduler cycles it
    /// (from base_momentum and max_momentum, even over a momentum of 0, as PyTorch 1.13 does).</param>
    /// <param name="Cause">The known cause of a difference, or a request to report it; null when they agree.</param>
    public sealed record Comparison(
        string Scheduler,
        Schedule TorchSharp,
        Schedule Reference,
        bool WithMomentum,
        double MaxRelDifference,
        int? FirstDifferentStep,
        string? Cause
    )
    {
        /// <summary>They differ, and no known difference explains it (a command exits 1: a finding to
        /// report).</summary>
        public bool Unexplained => FirstDifferentStep is not null && Cause == Conformance.UnknownCause;
    }

    public static Comparison CompareOne(Run run)
    {
        var (name, s, momentum) = (run.Name, run.Settings, run.Momentum);
        var (t, r) = (RunTorchSharp(run), RunReference(run));
        var (lrMax, lrFirst) = Compare(t.Lr, r.Lr);
        bool withMomentum = momentum > 0 || name is "CyclicLR" or "OneCycleLR" && s.Flag("cycle_momentum", true);
        var (mMax, mFirst) = withMomentum ? Compare(t.Momentum, r.Momentum) : (0, null);
        int? first =
            lrFirst is null ? mFirst
            : mFirst is null ? lrFirst
            : Math.Min(lrFirst.Value, mFirst.Value);
        var known = KnownDifferences(name, s);
        string? cause =
            first is null ? null
            : known.Count > 0 ? string.Join("; ", known.Select(k => k.Cause))
            : Conformance.UnknownCause;
        return new Comparison(name, t, r, withMomentum, Math.Max(lrMax, mMax), first, cause);
    }

    /// <summary>
    /// The known upstream differences of TorchSharp 0.107's schedulers for these settings (empty: none known), each
    /// with the line of TorchSharp's src/TorchSharp/Optimizers/LRScheduler.cs and PyTorch's
    /// (torch/optim/lr_scheduler.py).
    /// </summary>
    public static IReadOnlyList<Difference> KnownDifferences(string name, SchedSettings s)
    {
        var list = new List<Difference>();
        if (
            name == "MultiStepLR"
            && s.Ints("milestones").GroupBy(m => m).FirstOrDefault(g => g.Count() > 1) is { } repeated
        )
            list.Add(
                new(
                    "lr",
                    repeated.Key,
                    "MultiStepLR applies γ once at a milestone given several times (LRScheduler.cs, MultiStepLR.get_lr, line 288: `_milestones.IndexOf(_last_epoch)`, then `LearningRate * _gamma`; PyTorch keeps a Counter of the milestones and multiplies by gamma raised to the milestone's count)"
                )
            );
        if (name == "CyclicLR" && s.Flag("cycle_momentum", true))
            list.Add(
                new(
                    "momentum",
                    1,
                    "CyclicLR cycles the momentum the wrong way (LRScheduler.cs line 961-963: `_max_momentum[i] + base_height * _scale_func(…)`; PyTorch: `max_momentum - base_height * self.scale_fn(…)`): it rises above max_momentum while the learning rate rises, instead of falling to base_momentum"
                )
            );
        if (name == "CyclicLR" && s.Text("mode", "triangular") == "exp_range")
            list.Add(
                new(
                    "lr",
                    2,
                    "CyclicLR's exp_range scales by γ^cycle instead of γ^iteration (LRScheduler.cs line 926: `_scale_mode = ScaleMode.Cycle` for Mode.ExpRange; PyTorch: `self.scale_mode = 'iterations'` for exp_range)"
                )
            );
        return list;
    }

    /// <summary>Largest relative difference of two sequences and the first index above <paramref name="tolerance"/>:
    /// <see cref="Conformance.Compare"/> with each value as a point of one coordinate.</summary>
    public static (double Max, int? First) Compare(double[] a, double[] b, double tolerance = 1e-12) =>
        Conformance.Compare([.. a.Select(x => (double[])[x])], [.. b.Select(x => (double[])[x])], tolerance);
}
