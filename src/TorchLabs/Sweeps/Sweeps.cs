using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchLabs.Reporting;
using TorchLabs.Runtime;

using TorchLabs.Labs;

namespace TorchLabs.Sweeps;

/// <summary>One trial of a sweep: its index and id, the grid setting it takes and its seed. The command line it runs is the front
/// end's to write (<see cref="SweepFolder.RunTrial"/>): the lab with these settings, the plan's extra arguments, the seed, JSON
/// output and the trial's own folder.</summary>
public sealed record SweepTrial(int Index, string Id, IReadOnlyDictionary<string, string> Settings, long Seed)
{
    /// <summary>The setting as one label (seed left out): "lr=0.1 momentum=0.9", or "(default)" for an empty grid; escaped
    /// (<see cref="Printable.Escape"/>), as grid values are typed by users and end up on terminals and in reports.</summary>
    public string Setting => Settings.Count == 0 ? "(default)"
        : Printable.Escape(string.Join(" ", Settings.Select(kv => $"{kv.Key}={kv.Value}")), int.MaxValue);
}

/// <summary>
/// A sweep (#30): the grid of a lab's own settings × seeds expanded into trials, each one process of the lab with the trial's
/// settings and seed writing JSON into DIR/trials/ID; the plan in DIR/sweep.json, each trial's JSON in
/// DIR/trials/ID/result.json (written only when the trial exits 0, so a complete result is never run again), its stderr in
/// DIR/trials/ID/stderr.log and its exit code in DIR/trials/ID/exit.
/// </summary>
public sealed record SweepPlan(string Lab, IReadOnlyDictionary<string, string[]> Grid, long[] Seeds, string[] Extra, SweepTrial[] Trials)
{
    public static readonly string[] Labs = ["optimizers", "cifar10", "fashion-mnist"];

    /// <summary>The most trials one sweep plans: 10,000 (a sweep folder of that many trials collects in seconds; far more is a typo
    /// or a job for several sweeps).</summary>
    public const int MaxTrials = 10_000;

    /// <summary>The most trials run at a time (--parallel): far above any machine's cores or a Slurm array's useful limit.</summary>
    public const int MaxParallel = 1_024;

    /// <summary>
    /// The values of one <c>--grid KEY=V1,V2,…</c>: split at each comma, with <c>\,</c> a comma inside a value and <c>\\</c> a
    /// backslash (so <c>--grid 'start=1\,2,-3\,4'</c> sweeps <c>--start 1,2</c> and <c>--start -3,4</c>); each value trimmed.
    /// </summary>
    public static string[] SplitGridValues(string text)
    {
        var values = new List<string>();
        var current = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is ',' or '\\') current.Append(text[++i]);
            else if (text[i] == ',') { values.Add(current.ToString().Trim()); current.Clear(); }
            else current.Append(text[i]);
        }
        values.Add(current.ToString().Trim());
        return [.. values];
    }

    /// <summary>grid × seeds, the grid's keys in the order given, the seeds innermost.</summary>
    public static SweepPlan Expand(string lab, IReadOnlyDictionary<string, string[]> grid, long[] seeds, string[] extra)
    {
        // The count before the trials are made: 3 keys × 10 values × 1,000 seeds would otherwise build a million trials first.
        long count = grid.Values.Aggregate((long)seeds.Length, (n, values) => Math.Min(n * values.Length, long.MaxValue / 1024));
        if (count > MaxTrials)
        {
            var inv = CultureInfo.InvariantCulture;
            var (asked, most) = (count.ToString("N0", inv), MaxTrials.ToString("N0", inv));
            throw new UsageException($"sweep {lab}: the grid × seeds make {asked} trials; at most {most} in one sweep");
        }
        IEnumerable<Dictionary<string, string>> settings = [new()];
        foreach (var (key, values) in grid)
            settings = settings.SelectMany(s => values.Select(v => new Dictionary<string, string>(s) { [key] = v }));
        var trials = new List<SweepTrial>();
        foreach (var s in settings)
            foreach (long seed in seeds)
            {
                int i = trials.Count;
                trials.Add(new SweepTrial(i, $"t{i:D4}", s, seed));
            }
        return new SweepPlan(lab, grid, seeds, extra, [.. trials]);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The largest sweep.json read: 64 MiB (a plan of <see cref="MaxTrials"/> trials is about 5 MiB).</summary>
    public const long MaxPlanBytes = 64L << 20;
    /// <summary>The largest result.json read: 64 MiB (the longest result here, a 20,000-step curve, is under 1 MiB).</summary>
    public const long MaxResultBytes = 64L << 20;
    /// <summary>How much of the end of a trial's stderr.log is read for its last line: 64 KiB.</summary>
    public const int StderrTailBytes = 64 << 10;

    /// <summary>
    /// Reads DIR/sweep.json as untrusted input: a regular file of at most <see cref="MaxPlanBytes"/>, every field present, the
    /// lab one of <see cref="Labs"/>, trials numbered 0, 1, … with ids of the one form t0000 (so no trial's folder is outside
    /// DIR/trials). Anything else is a <see cref="UsageException"/> naming the file.
    /// </summary>
    public static SweepPlan Read(string path)
    {
        string text = InputFile.ReadAllText(path, path, "a sweep plan (sweep.json)", MaxPlanBytes);
        SweepPlan? plan;
        try { plan = JsonSerializer.Deserialize<SweepPlan>(text, JsonOptions); }
        catch (JsonException e) { throw new UsageException($"{path}: not a sweep plan ({Printable.Escape(e.Message)})"); }
        string? problem = plan is null ? "empty" : plan.Problem();
        if (problem is not null) throw new UsageException($"{path}: not a sweep plan ({problem})");
        return plan!;
    }

    /// <summary>What makes a read plan unusable, or null.</summary>
    string? Problem()
    {
        if (Lab is null || !Labs.Contains(Lab)) return $"lab {Printable.Quote(Lab)} is not one of {string.Join(", ", Labs)}";
        if (Grid is null || Seeds is null || Extra is null || Trials is null) return "grid, seeds, extra or trials missing";
        if (Extra.Any(a => a is null)) return "extra holds an empty argument";
        if (Trials.Length > MaxTrials) return $"{Trials.Length} trials, more than {MaxTrials}";
        for (int i = 0; i < Trials.Length; i++)
        {
            var t = Trials[i];
            if (t is null || t.Settings is null || t.Id is null)
                return $"trial {i} is incomplete";
            if (t.Index != i || !IsTrialId(t.Id))
                return $"trial {i} has index {t.Index} and id {Printable.Quote(t.Id)}; expected {i} and t{i:D4}";
            if (t.Settings.Any(kv => kv.Key is null || kv.Value is null)) return $"trial {i} has an empty setting";
        }
        return null;
    }

    /// <summary>A trial id as <see cref="Expand"/> writes it: 't' and four or more digits, a name that cannot leave a folder.</summary>
    static bool IsTrialId(string id) => id.Length >= 5 && id.Length <= 12 && id[0] == 't' && id.Skip(1).All(char.IsAsciiDigit);

    /// <summary>Whether two plans would run the same trials (the same lab, extra arguments, settings and seeds).</summary>
    public bool SameTrials(SweepPlan other) => Lab == other.Lab && Extra.SequenceEqual(other.Extra)
        && Trials.Length == other.Trials.Length && Trials.Zip(other.Trials).All(p => p.First.Seed == p.Second.Seed
            && p.First.Settings.Count == p.Second.Settings.Count
            && p.First.Settings.All(kv => p.Second.Settings.TryGetValue(kv.Key, out string? v) && v == kv.Value));

    public static string TrialDir(string outDir, SweepTrial t) => Path.Combine(outDir, "trials", t.Id);

    /// <summary>The trial's result, when it finished with exit 0 and its JSON is whole; null otherwise (also when result.json is
    /// not a regular file or is larger than <see cref="MaxResultBytes"/>: <see cref="LastError"/> says so).</summary>
    public static JsonNode? Result(string outDir, SweepTrial t)
    {
        string path = Path.Combine(TrialDir(outDir, t), "result.json");
        if (ResultProblem(path) is not null) return null;
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject; }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Why result.json cannot be read as a result (missing, not a regular file, too large), or null.</summary>
    static string? ResultProblem(string path) =>
        !File.Exists(path) ? "no result.json"
        : !FileKind.IsRegularFile(path) ? "result.json is not a regular file"
        : new FileInfo(path).Length > MaxResultBytes ? $"result.json is larger than {MaxResultBytes >> 20} MiB" : null;

    /// <summary>The last line of the trial's stderr (read from its last <see cref="StderrTailBytes"/>), for failed trials.</summary>
    public static string LastError(string outDir, SweepTrial t)
    {
        string result = Path.Combine(TrialDir(outDir, t), "result.json");
        if (File.Exists(result) && ResultProblem(result) is string problem) return problem;
        string path = Path.Combine(TrialDir(outDir, t), "stderr.log");
        string? last = null;
        if (File.Exists(path) && FileKind.IsRegularFile(path))
        {
            try
            {
                using var f = File.OpenRead(path);
                f.Seek(Math.Max(0, f.Length - StderrTailBytes), SeekOrigin.Begin);
                using var reader = new StreamReader(f);
                last = reader.ReadToEnd().Split('\n').LastOrDefault(l => l.Trim().Length > 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                last = $"stderr.log unreadable ({e.GetType().Name})";
            }
        }
        string exit = Path.Combine(TrialDir(outDir, t), "exit");
        if (last is null && File.Exists(exit) && FileKind.IsRegularFile(exit) && new FileInfo(exit).Length < 64)
            last = $"exit {File.ReadAllText(exit).Trim()}";
        return last ?? "did not run";
    }
}

/// <summary>`torchlabs sweep collect`: each setting's key numbers over its seeds (mean, standard deviation, min, max, the count that
/// finished), the failed trials with their last stderr line, and the report section with figures.</summary>
public static class SweepCollect
{
    /// <summary>Key numbers and curves of one trial's JSON, by lab.</summary>
    public static (Dictionary<string, double> Numbers, Dictionary<string, double[]> Curves) KeyNumbers(string lab, JsonNode r)
    {
        var numbers = new Dictionary<string, double>();
        var curves = new Dictionary<string, double[]>();
        static double[] Doubles(JsonNode? a) => a is JsonArray arr ? [.. arr.Select(v => v?.GetValue<double>() ?? double.NaN)] : [];
        switch (lab)
        {
            case "optimizers" when r["race"] is JsonArray race:
                foreach (var row in race)
                    numbers[$"final f ({row!["optimizer"]})"] = row!["finalF"]!.GetValue<double>();
                break;
            case "optimizers":
                double[] loss = Doubles(r["loss"]);
                numbers["final f"] = loss[^1];
                int reach = Array.FindIndex(loss, v => v < OptimizersLab.Target);
                if (reach >= 0) numbers[$"steps to f < {OptimizersLab.Target}"] = reach;
                curves["f"] = loss;
                break;
            case "cifar10":
                numbers["test accuracy (%)"] = r["accuracy"]!.GetValue<double>();
                double[] curve = r["lossCurve"] is JsonArray lc ? [.. lc.Select(p => p!["loss"]!.GetValue<double>())] : [];
                if (curve.Length > 0) { numbers["final training loss"] = curve[^1]; curves["training loss"] = curve; }
                break;
            case "fashion-mnist":
                foreach (var run in (JsonArray)r["runs"]!)
                {
                    string o = run!["optimizer"]!.GetValue<string>();
                    numbers[$"test accuracy ({o})"] = run["testAccuracy"]!.GetValue<double>();
                    double[] train = Doubles(run["trainLoss"]);
                    numbers[$"final training loss ({o})"] = train[^1];
                    curves[$"training loss ({o})"] = train;
                }
                break;
        }
        return (numbers, curves);
    }

    /// <summary>One setting's statistics for one key number.</summary>
    public sealed record Stat(string Setting, string Number, int Finished, int Trials, double Mean, double Std, double Min, double Max);

    public sealed record Collected(string Lab, IReadOnlyList<Stat> Stats,
        IReadOnlyList<(string Id, string Setting, long Seed, string Error)> Failed,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double[][]>> Curves);

    public static Collected Collect(string outDir)
    {
        var plan = SweepPlan.Read(Path.Combine(outDir, "sweep.json"));
        var stats = new List<Stat>();
        var failed = new List<(string, string, long, string)>();
        var curves = new Dictionary<string, IReadOnlyDictionary<string, double[][]>>();
        foreach (var group in plan.Trials.GroupBy(t => t.Setting))
        {
            var results = new List<(Dictionary<string, double> Numbers, Dictionary<string, double[]> Curves)>();
            foreach (var t in group)
            {
                var r = SweepPlan.Result(outDir, t);
                if (r is null) { failed.Add((t.Id, t.Setting, t.Seed, SweepPlan.LastError(outDir, t))); continue; }
                try { results.Add(KeyNumbers(plan.Lab, r)); }
                catch (Exception e) when (e is InvalidOperationException or IndexOutOfRangeException or NullReferenceException
                                               or FormatException or InvalidCastException or KeyNotFoundException or ArgumentException)
                {
                    failed.Add((t.Id, t.Setting, t.Seed, $"unreadable result.json: not the {plan.Lab} lab's JSON ({e.GetType().Name})"));
                }
            }
            foreach (string number in results.SelectMany(r => r.Numbers.Keys).Distinct())
            {
                double[] v = [.. results.Where(r => r.Numbers.ContainsKey(number)).Select(r => r.Numbers[number])];
                var (mean, std) = MeanStd(v);
                stats.Add(new Stat(group.Key, number, v.Length, group.Count(), mean, std, v.Min(), v.Max()));
            }
            curves[group.Key] = results.SelectMany(r => r.Curves).GroupBy(kv => kv.Key)
                .ToDictionary(g => g.Key, g => g.Select(kv => kv.Value).ToArray());
        }
        return new Collected(plan.Lab, stats, failed, curves);
    }

    /// <summary>The mean and the sample standard deviation (n − 1; 0 for one value) of the seeds' values.</summary>
    static (double Mean, double Std) MeanStd(double[] v)
    {
        double mean = v.Average();
        return (mean, v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0);
    }

    static string G(double v) => v.ToString("G5", CultureInfo.InvariantCulture);

    public static Table StatsTable(Collected c) => new(["setting", "key number", "finished", "mean", "std", "min", "max"],
        c.Stats.Select(s => (IReadOnlyList<string>)[s.Setting, s.Number, $"{s.Finished} of {s.Trials}", G(s.Mean), G(s.Std), G(s.Min),
            G(s.Max)]).ToList());

    /// <summary>The report section: the table, a figure of each key number's mean ± standard deviation over the settings, the
    /// curves as mean with a ± one standard deviation band, and the failed trials (left out of the statistics).</summary>
    public static ReportSection Section(Collected c, string outDir)
    {
        var blocks = new List<Block>
        {
            new Paragraph($"A sweep of `{c.Lab}` over {c.Stats.Select(s => s.Setting).Distinct().Count()} settings: for every setting, each key number's mean, sample standard deviation, minimum and maximum over the seeds that finished."),
            StatsTable(c),
        };
        foreach (var number in c.Stats.GroupBy(s => s.Number))
        {
            // Settings whose mean or spread overflowed (±∞, NaN) stay in the table, not in the figure.
            var rows = number.Where(r => double.IsFinite(r.Mean) && double.IsFinite(r.Std)).ToList();
            if (rows.Count < number.Count())
                blocks.Add(new Paragraph($"{number.Key}: {number.Count() - rows.Count} setting(s) with a mean or standard deviation that is not a finite number (an overflow) are in the table only."));
            if (rows.Count == 0) continue;
            blocks.Add(Figures.Of(Plots.ErrorBars($"{number.Key}: mean ± standard deviation over seeds", "setting", number.Key,
                [.. rows.Select(r => r.Setting)], [.. rows.Select(r => r.Mean)], [.. rows.Select(r => r.Std)]),
                "sweep-" + Slug(number.Key), $"{number.Key} per setting (mean ± one standard deviation over the seeds)"));
        }
        foreach (string curve in c.Curves.Values.SelectMany(d => d.Keys).Distinct())
        {
            var series = c.Curves.Where(kv => kv.Value.ContainsKey(curve)).Select(kv =>
            {
                var runs = kv.Value[curve];
                var steps = Enumerable.Range(0, runs.Min(r => r.Length)).Select(i => MeanStd([.. runs.Select(r => r[i])])).ToList();
                return (kv.Key, steps.Select(m => m.Mean).ToArray(), steps.Select(m => m.Std).ToArray());
            }).ToList();
            blocks.Add(Figures.Of(Plots.Bands($"{curve}: mean over seeds with a ± one standard deviation band", "step", curve, series),
                "sweep-curve-" + Slug(curve), $"{curve}, mean over the seeds of each setting, the band ± one standard deviation"));
        }
        if (c.Failed.Count > 0)
        {
            blocks.Add(new Paragraph($"{c.Failed.Count} trial(s) failed and are left out of the statistics above:"));
            blocks.Add(new Table(["trial", "setting", "seed", "last line of stderr"],
                c.Failed.Select(f => (IReadOnlyList<string>)[f.Id, f.Setting, f.Seed.ToString(CultureInfo.InvariantCulture),
                    Printable.Escape(f.Error)]).ToList()));
        }
        return new ReportSection("sweep", $"Sweep: {c.Lab}", c.Failed.Count == 0 ? SectionStatus.Ran : SectionStatus.Failed, blocks,
            TimeSpan.Zero)
        { KeyNumber = $"{c.Stats.Select(s => s.Setting).Distinct().Count()} settings, {c.Failed.Count} failed trial(s)" };
    }

    static string Slug(string s) => new([.. s.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) ? ch : '-')]);
}
