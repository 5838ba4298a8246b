using System.Globalization;
using TorchLabs.Reference;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs conformance`: TorchSharp's own optimizers against hand references of PyTorch's algorithms
/// (#28).</summary>
public static class ConformanceCommand
{
    /// <summary>Keywords whose value is a pair (PyTorch tuples) and those that are true or false.</summary>
    static readonly HashSet<string> Pairs = ["betas", "etas", "step_sizes"],
        Flags = ["nesterov", "maximize", "amsgrad", "centered"];

    public static Command Create()
    {
        var format = CommonOptions.Format();
        var threads = CommonOptions.Threads();
        var cmd = new Command(
            "conformance",
            "TorchSharp's optimizers (C# re-implementations) against hand references of PyTorch's algorithms: the grid as one table, or one optimizer with your settings (`conformance optimizer NAME --set KEY=VALUE`)"
        )
        {
            format,
            threads,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(p.GetValue(threads), "cpu");
                var (optimizers, schedulers) = StatusLine.Around(status =>
                    (ConformanceGrid.Run(status), SchedulerConformance.RunGrid(status))
                );
                var rows = optimizers.Concat(schedulers).ToList();
                if (p.GetValue(format) == "json")
                    Json.Print(new { optimizers, schedulers });
                else
                    ConsoleTables.Write(ConformanceReportLab.ConformanceTable(rows));
                // Exit 0 when every difference found is a known one (each has its cause); 1 when one is not explained.
                return rows.Any(r => r.Verdict.Contains("unexplained", StringComparison.Ordinal))
                    ? Outcome.Failed
                    : Outcome.Ok;
            })
        );
        cmd.Subcommands.Add(Optimizer());
        cmd.Subcommands.Add(Data());
        cmd.Subcommands.Add(Scheduler());
        return cmd;
    }

    /// <summary>`conformance data`: TorchSharp's and TorchVision's data pipeline against PyTorch 1.13's goldens, with
    /// TorchLabs' own loader beside them. Exit 0 when every difference has its cause; 1 when TorchLabs' own answer is
    /// not PyTorch's.</summary>
    static Command Data()
    {
        var format = CommonOptions.Format();
        var threads = CommonOptions.Threads();
        var cmd = new Command(
            "data",
            "TorchVision's CIFAR10 and Normalize and TorchSharp's DataLoader against PyTorch 1.13 on generated CIFAR bytes: what each gives, where they first differ, and TorchLabs' loader beside them"
        )
        {
            format,
            threads,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(p.GetValue(threads), "cpu");
                var cases = StatusLine.Around(status => DataConformance.Run(status));
                if (p.GetValue(format) == "json")
                    Json.Print(new { cases });
                else
                    ConsoleTables.Write(DataConformance.ToTable(cases));
                return cases.Any(c => c.TorchLabsFault) ? Outcome.Failed : Outcome.Ok;
            })
        );
        return cmd;
    }

    static Command Scheduler()
    {
        var options = new SchedulerConformanceOptions();
        var cmd = new Command(
            "scheduler",
            "One TorchSharp scheduler and its hand reference on SGD: the learning rate (and momentum) before the first step and after every step"
        ).With(options.Symbols);
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var (request, json) = options.Bind(p);
                var c = SchedulerConformance.CompareOne(request.Run);
                if (json)
                {
                    Json.Print(
                        new
                        {
                            scheduler = c.Scheduler,
                            settings = request.Given,
                            lr = c.TorchSharp.Lr,
                            referenceLr = c.Reference.Lr,
                            momentum = c.WithMomentum ? c.TorchSharp.Momentum : null,
                            referenceMomentum = c.WithMomentum ? c.Reference.Momentum : null,
                            maxRelDifference = c.MaxRelDifference,
                            firstDifferentStep = c.FirstDifferentStep,
                            knownDifference = c.Cause,
                        }
                    );
                    return c.Unexplained ? Outcome.Failed : Outcome.Ok;
                }
                var header = new List<string> { "step", "TorchSharp lr", "reference lr" };
                if (c.WithMomentum)
                    header.AddRange(["TorchSharp momentum", "reference momentum"]);
                var (t, r) = (c.TorchSharp, c.Reference);
                var rows = Enumerable
                    .Range(0, request.Run.Steps + 1)
                    .Select(k =>
                        (IReadOnlyList<string>)(
                            c.WithMomentum
                                ?
                                [
                                    k.ToString(CultureInfo.InvariantCulture),
                                    G(t.Lr[k]),
                                    G(r.Lr[k]),
                                    G(t.Momentum[k]),
                                    G(r.Momentum[k]),
                                ]
                                : [k.ToString(CultureInfo.InvariantCulture), G(t.Lr[k]), G(r.Lr[k])]
                        )
                    )
                    .ToList();
                ConsoleTables.Write(
                    new Reporting.Table(
                        header,
                        rows,
                        $"{c.Scheduler} on SGD(lr={request.Run.Lr}, momentum={request.Run.Momentum})"
                    )
                );
                Console.WriteLine(
                    c.FirstDifferentStep is null
                        ? $"agrees: TorchSharp's {c.Scheduler} gives PyTorch's schedule at every step (largest relative difference {c.MaxRelDifference:E1})"
                        : $"differs from step {c.FirstDifferentStep} (largest relative difference {c.MaxRelDifference:E1}): {c.Cause}"
                );
                return c.Unexplained ? Outcome.Failed : Outcome.Ok;
            })
        );
        return cmd;
    }

    static Command Optimizer()
    {
        var name = new Argument<string>("NAME")
        {
            Description = "PyTorch's class name, any case: " + string.Join(", ", TorchOptimReference.Names),
        };
        var set = new Option<string[]>("--set")
        {
            Description =
                "A setting in PyTorch's words, KEY=VALUE (lr=0.05, betas=0.8,0.95, amsgrad=true); repeat for more",
            AllowMultipleArgumentsPerToken = false,
        };
        var start = new Option<string>("--start")
        {
            Description = "Start X0,X1 on f(x) = x0²/20 + x1²",
            DefaultValueFactory = _ => "3,-2",
        };
        var steps = new Option<int>("--steps") { Description = "Number of steps", DefaultValueFactory = _ => 25 };
        var format = CommonOptions.Format();
        var cmd = new Command(
            "optimizer",
            "One TorchSharp optimizer and its hand reference on notes 001's f, step by step"
        )
        {
            name,
            set,
            start,
            steps,
            format,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(1, "cpu");
                string given = p.GetValue(name)!;
                string optimizer = TorchOptimReference.Names.FirstOrDefault(n =>
                    string.Equals(n, given, StringComparison.OrdinalIgnoreCase)
                )
                    ?? throw new UsageException(
                        $"conformance optimizer {Printable.Quote(given)}: unknown; expected one of {string.Join(", ", TorchOptimReference.Names)}"
                    );
                var settings = Parse(optimizer, p.GetValue(set) ?? []);
                int n = p.GetValue(steps);
                if (n is < 1 or > 100_000)
                    throw new UsageException($"--steps {n}: expected 1 to 100000");
                double[] x = OptimizersCommand.ParseStart(p.GetValue(start)!);
                var c = Conformance.CompareOne(optimizer, settings, ConformanceProblem.F(x[0], x[1]), n);
                if (p.GetValue(format) == "json")
                    Json.Print(ToJson(c));
                else
                    Print(c, n);
                // as the grid: an unexplained difference is a finding
                return c.Unexplained ? Outcome.Failed : Outcome.Ok;
            })
        );
        return cmd;
    }

    static object ToJson(Conformance.Comparison c) =>
        new
        {
            optimizer = c.Optimizer,
            settings = c.Settings.Given.ToDictionary(
                kv => kv.Key,
                kv =>
                    Flags.Contains(kv.Key) ? kv.Value[0] != 0
                    : kv.Value.Length == 1 ? kv.Value[0]
                    : (object)kv.Value
            ),
            trajectory = c.TorchSharp,
            reference = c.Reference,
            maxRelDifference = c.MaxRelDifference,
            firstDifferentStep = c.FirstDifferentStep,
            knownDifference = c.Cause,
        };

    static void Print(Conformance.Comparison c, int n)
    {
        var shown = Enumerable.Range(0, n + 1).Where(k => k < 6 || k == n || k == c.FirstDifferentStep).ToList();
        ConsoleTables.Write(
            new Reporting.Table(
                ["step", "TorchSharp x0", "TorchSharp x1", "reference x0", "reference x1"],
                shown
                    .Select(k =>
                        (IReadOnlyList<string>)
                            [
                                k.ToString(CultureInfo.InvariantCulture),
                                G(c.TorchSharp[k][0]),
                                G(c.TorchSharp[k][1]),
                                G(c.Reference[k][0]),
                                G(c.Reference[k][1]),
                            ]
                    )
                    .ToList(),
                $"{c.Optimizer}({c.Settings})"
            )
        );
        Console.WriteLine(
            c.FirstDifferentStep is null
                ? $"agrees: TorchSharp's {c.Optimizer} equals PyTorch's algorithm at every step (largest relative difference {c.MaxRelDifference:E1})"
                : $"differs from step {c.FirstDifferentStep} (largest relative difference {c.MaxRelDifference:E1}): {c.Cause}"
        );
    }

    static string G(double v) => v.ToString("G10", CultureInfo.InvariantCulture);

    /// <summary>--set KEY=VALUE in PyTorch's words, checked against the optimizer's keywords; numbers, pairs and
    /// booleans.</summary>
    static OptimSettings Parse(string optimizer, IEnumerable<string> items)
    {
        var keys = TorchOptimReference.Keywords[optimizer];
        var values = new Dictionary<string, double[]>();
        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            string key = eq < 0 ? item : item[..eq],
                text = eq < 0 ? "" : item[(eq + 1)..];
            if (!keys.Contains(key))
                throw new UsageException(
                    $"--set {Printable.Quote(item)}: {optimizer} has no keyword {Printable.Quote(key)}; expected one of "
                        + string.Join(", ", keys)
                );
            if (values.ContainsKey(key))
                throw new UsageException($"--set {key}: given twice; give each keyword once");
            if (Conformance.Lacking.TryGetValue(optimizer, out var lacks) && lacks.Contains(key))
                throw new UsageException(
                    $"--set {key}: TorchSharp 0.107's {optimizer} lacks {key} (PyTorch's has it); leave it out"
                );
            double[] v;
            if (Flags.Contains(key))
                v = text.ToLowerInvariant() switch
                {
                    "true" or "1" => [1],
                    "false" or "0" => [0],
                    _ => throw new UsageException($"--set {key}={Printable.Quote(text)}: expected true or false"),
                };
            else
            {
                var parts = text.Split(',');
                v = new double[parts.Length];
                int expect = Pairs.Contains(key) ? 2 : 1;
                if (
                    parts.Length != expect
                    || parts
                        .Select(
                            (t, i) =>
                                double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out v[i])
                                && double.IsFinite(v[i])
                        )
                        .Any(ok => !ok)
                )
                    throw new UsageException(
                        $"--set {key}={Printable.Quote(text)}: expected "
                            + (expect == 2 ? "two finite numbers A,B" : "a finite number")
                    );
                if (v.Any(x => x < 0))
                    throw new UsageException($"--set {key}={text}: expected values of at least 0");
                if (key == "betas" && v.Any(x => x >= 1))
                    throw new UsageException($"--set betas={text}: expected each in [0, 1)");
                if (key is "rho" or "alpha" && optimizer != "ASGD" && v[0] > 1)
                    throw new UsageException($"--set {key}={text}: expected [0, 1]");
            }
            values[key] = v;
        }
        if (optimizer == "SGD" && !values.ContainsKey("lr"))
            throw new UsageException("SGD: --set lr=VALUE is required (as in PyTorch)");
        var s = new OptimSettings(values);
        // PyTorch's own checks (its messages), so that no setting PyTorch refuses gets numbers here.
        if (optimizer == "SGD" && s.Flag("nesterov") && (s.Get("momentum", 0) <= 0 || s.Get("dampening", 0) != 0))
            throw new UsageException(
                "SGD: Nesterov momentum requires a momentum and zero dampening (PyTorch refuses it too)"
            );
        if (
            optimizer == "Rprop"
            && s.Pair("etas", 0.5, 1.2) is var (minus, plus)
            && !(0 < minus && minus < 1 && 1 < plus)
        )
            throw new UsageException(
                $"Rprop: Invalid eta values: {minus}, {plus}; expected 0 < etaminus < 1 < etaplus (PyTorch refuses it too)"
            );
        if (optimizer is "Adadelta" && s.Get("rho", 0.9) > 1)
            throw new UsageException("Adadelta: Invalid rho value; expected [0, 1]");
        return s;
    }
}
