using System.Globalization;
using System.Text.Json;
using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.Sweeps;

/// <summary>One trial of a sweep: its index and id, the grid setting it takes and its seed. The command line it runs is
/// the front end's to write (<see cref="SweepFolder.RunTrial"/>): the lab with these settings, the plan's extra
/// arguments, the notes, JSON output and the trial's own folder.</summary>
public sealed record SweepTrial(int Index, string Id, IReadOnlyDictionary<string, string> Settings, long Seed)
{
    /// <summary>The setting as one label (seed left out): "lr=0.1 momentum=0.9", or "(default)" for an empty grid;
    /// escaped (<see cref="Printable.Escape"/>), as grid values are typed by users and end up on terminals and in
    /// reports.</summary>
    public string Setting =>
        Settings.Count == 0
            ? "(default)"
            : Printable.Escape(string.Join(" ", Settings.Select(kv => $"{kv.Key}={kv.Value}")), int.MaxValue);
}

/// <summary>
/// A sweep (#30): the grid of a lab's own settings × seeds expanded into trials, each one process of the lab with the
/// trial's settings and seed writing JSON into DIR/trials/ID; the plan in DIR/sweep.json, each trial's JSON in
/// DIR/trials/ID/result.json (written only when the trial exits 0, so a complete result is never run again), its stderr
/// in DIR/trials/ID/stderr.log and its exit code in DIR/trials/ID/exit.
/// </summary>
public sealed record SweepPlan(
    string Lab,
    IReadOnlyDictionary<string, string[]> Grid,
    long[] Seeds,
    string[] Extra,
    SweepTrial[] Trials
)
{
    public static readonly string[] Labs = ["optimizers", "cifar10", "fashion-mnist"];

    /// <summary>The most trials one sweep plans: 10,000 (a sweep folder of that many trials collects in seconds; far
    /// more is a typo or a job for several sweeps).</summary>
    public const int MaxTrials = 10_000;

    /// <summary>The most trials run at a time (--parallel): far above any machine's cores or a Slurm array's useful
    /// limit.</summary>
    public const int MaxParallel = 1_024;

    /// <summary>
    /// The values of one <c>--grid KEY=V1,V2,…</c>: split at each comma, with <c>\,</c> a comma inside a value and
    /// <c>\\</c> a backslash (so <c>--grid 'start=1\,2,-3\,4'</c> sweeps <c>--start 1,2</c> and <c>--start -3,4</c>);
    /// each value trimmed.
    /// </summary>
    public static string[] SplitGridValues(string text)
    {
        var values = new List<string>();
        var current = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is ',' or '\\')
                current.Append(text[++i]);
            else if (text[i] == ',')
            {
                values.Add(current.ToString().Trim());
                current.Clear();
            }
            else
                current.Append(text[i]);
        }
        values.Add(current.ToString().Trim());
        return [.. values];
    }

    /// <summary>A grid value as the setting it makes: a number by its value (0.1 and 1e-1 are one), anything else as
    /// written.</summary>
    static string Canonical(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v.ToString("R", CultureInfo.InvariantCulture)
            : value;

    /// <summary>grid × seeds, the grid's keys in the order given, the seeds innermost.</summary>
    public static SweepPlan Expand(string lab, IReadOnlyDictionary<string, string[]> grid, long[] seeds, string[] extra)
    {
        // The count before the trials are made: 3 keys × 10 values × 1,000 seeds would otherwise build a million trials
        // first.
        long count = grid.Values.Aggregate((long)seeds.Length, (n, values) =>
            Math.Min(n * values.Length, long.MaxValue / 1024)
        );
        if (count > MaxTrials)
        {
            var inv = CultureInfo.InvariantCulture;
            var (asked, most) = (count.ToString("N0", inv), MaxTrials.ToString("N0", inv));
            throw new UsageException($"sweep {lab}: the grid × seeds make {asked} trials; at most {most} in one sweep");
        }
        foreach (var (key, values) in grid)
            if (values.GroupBy(Canonical).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new UsageException(
                    $"sweep {lab} ‹grid› {Printable.Escape(key)}: {string.Join(" and ", twice.Select(v => Printable.Quote(v)))} are the same setting; each value once (a setting twice would count its runs twice)"
                );
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

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>The largest sweep.json read: 64 MiB (a plan of <see cref="MaxTrials"/> trials is about 5
    /// MiB).</summary>
    public const long MaxPlanBytes = 64L << 20;

    /// <summary>The largest result.json read: 64 MiB (the longest result here, a 20,000-step curve, is under 1
    /// MiB).</summary>
    public const long MaxResultBytes = 64L << 20;

    /// <summary>How much of the end of a trial's stderr.log is read for its last line: 64 KiB.</summary>
    public const int StderrTailBytes = 64 << 10;

    /// <summary>
    /// Reads DIR/sweep.json as untrusted input: a regular file of at most <see cref="MaxPlanBytes"/>, every field
    /// present, the lab one of <see cref="Labs"/>, trials numbered 0, 1, … with ids of the one form t0000 (so no
    /// trial's folder is outside DIR/trials). Anything else is a <see cref="UsageException"/> naming the file.
    /// </summary>
    public static SweepPlan Read(string path)
    {
        string text = InputFile.ReadAllText(path, path, "a sweep plan (sweep.json)", MaxPlanBytes);
        SweepPlan? plan;
        try
        {
            plan = JsonSerializer.Deserialize<SweepPlan>(text, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path}: not a sweep plan ({Printable.Escape(e.Message)})");
        }
        string? problem = plan is null ? "empty" : plan.Problem();
        if (problem is not null)
            throw new UsageException($"{path}: not a sweep plan ({problem})");
        return plan!;
    }

    /// <summary>What makes a read plan unusable, or null.</summary>
    string? Problem()
    {
        if (Lab is null || !Labs.Contains(Lab))
            return $"lab {Printable.Quote(Lab)} is not one of {string.Join(", ", Labs)}";
        if (Grid is null || Seeds is null || Extra is null || Trials is null)
            return "grid, seeds, extra or trials missing";
        if (Extra.Any(a => a is null))
            return "extra holds an empty argument";
        if (Trials.Length > MaxTrials)
            return $"{Trials.Length} trials, more than {MaxTrials}";
        for (int i = 0; i < Trials.Length; i++)
        {
            var t = Trials[i];
            if (t is null || t.Settings is null || t.Id is null)
                return $"trial {i} is incomplete";
            if (t.Index != i || !IsTrialId(t.Id))
                return $"trial {i} has index {t.Index} and id {Printable.Quote(t.Id)}; expected {i} and t{i:D4}";
            if (t.Settings.Any(kv => kv.Key is null || kv.Value is null))
                return $"trial {i} has an empty setting";
        }
        return null;
    }

    /// <summary>A trial id as <see cref="Expand"/> writes it: 't' and four or more digits, a name that cannot leave a
    /// folder.</summary>
    static bool IsTrialId(string id) =>
        id.Length >= 5 && id.Length <= 12 && id[0] == 't' && id.Skip(1).All(char.IsAsciiDigit);

    /// <summary>Whether two plans would run the same trials (the same lab, extra arguments, settings and
    /// seeds).</summary>
    public bool SameTrials(SweepPlan other) =>
        Lab == other.Lab
        && Extra.SequenceEqual(other.Extra)
        && Trials.Length == other.Trials.Length
        && Trials
            .Zip(other.Trials)
            .All(p =>
                p.First.Seed == p.Second.Seed
                && p.First.Settings.Count == p.Second.Settings.Count
                && p.First.Settings.All(kv => p.Second.Settings.TryGetValue(kv.Key, out string? v) && v == kv.Value)
            );

    public static string TrialDir(string outDir, SweepTrial t) => Path.Combine(outDir, "trials", t.Id);

    /// <summary>The SHA-256 of DIR/sweep.json as it is now (hex): what every trial's entry.json names, so that a result
    /// made under another plan is never counted.</summary>
    public static string Hash(string outDir)
    {
        using var f = InputFile.OpenRead(
            Path.Combine(outDir, "sweep.json"),
            Path.Combine(outDir, "sweep.json"),
            "a sweep plan"
        );
        if (f.Length > MaxPlanBytes)
            throw new UsageException($"{Path.Combine(outDir, "sweep.json")}: larger than {MaxPlanBytes >> 20} MiB");
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f));
    }

    /// <summary>What a trial records beside its result: the plan entry it ran (lab, settings, seed) and the plan's
    /// hash.</summary>
    public sealed record Entry(string Lab, IReadOnlyDictionary<string, string> Settings, long Seed, string Plan)
    {
        public bool Matches(string lab, SweepTrial t, string plan) =>
            Lab == lab
            && Seed == t.Seed
            && Plan == plan
            && Settings is not null
            && Settings.Count == t.Settings.Count
            && t.Settings.All(kv => Settings.TryGetValue(kv.Key, out string? v) && v == kv.Value);
    }

    /// <summary>The trial's result, when it finished with exit 0, its JSON is whole and its entry.json names this
    /// plan's entry; null otherwise (<see cref="LastError"/> says why: missing, not a regular file, larger than <see
    /// cref="MaxResultBytes"/> (the size of what a link points to), or stale: made by another plan). Parsed from the
    /// stream as a JsonDocument: its memory is the file's bytes and a compact index of them.</summary>
    public static JsonDocument? Result(string outDir, SweepTrial t, string lab, string planHash)
    {
        if (ResultProblem(outDir, t, lab, planHash) is not null)
            return null;
        try
        {
            using var f = File.OpenRead(Path.Combine(TrialDir(outDir, t), "result.json"));
            var doc = JsonDocument.Parse(f);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                return doc;
            doc.Dispose();
            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether the trial has a result <see cref="Result"/> would count (without parsing it).</summary>
    public static bool Complete(string outDir, SweepTrial t, string lab, string planHash) =>
        ResultProblem(outDir, t, lab, planHash) is null;

    /// <summary>Why result.json cannot be counted as this trial's result, or null. The size is the target's (a link is
    /// followed); a result without an entry.json naming this plan and this trial is stale.</summary>
    static string? ResultProblem(string outDir, SweepTrial t, string lab, string planHash)
    {
        string path = Path.Combine(TrialDir(outDir, t), "result.json");
        if (!File.Exists(path))
            return "no result.json";
        if (!FileKind.IsRegularFile(path))
            return "result.json is not a regular file";
        long size;
        try
        {
            using var f = File.OpenRead(path);
            size = f.Length;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            return $"result.json unreadable ({x.GetType().Name})";
        }
        if (size > MaxResultBytes)
            return $"result.json is larger than {MaxResultBytes >> 20} MiB";
        if (MoreValuesThan(path, MaxResultValues))
            return $"result.json holds more than {MaxResultValues:N0} values";
        return ReadEntry(outDir, t) is { } e && e.Matches(lab, t, planHash)
            ? null
            : $"stale: {Printable.Escape(path)} was not made by this plan's trial {t.Id} (another sweep's, or an older TorchLabs'); it is run again";
    }

    /// <summary>The most values (commas, counted before parsing) a result may hold: a lab's result has far fewer, and a
    /// parse's memory grows with them (a 60 MB list of zeros is 30 million values).</summary>
    public const int MaxResultValues = 2_000_000;

    /// <summary>Whether the file has more than <paramref name="max"/> commas: read in 1 MiB blocks, nothing
    /// kept.</summary>
    static bool MoreValuesThan(string path, int max)
    {
        using var f = File.OpenRead(path);
        var block = new byte[1 << 20];
        long commas = 0;
        for (int n; (n = f.Read(block)) > 0; )
            if ((commas += block.AsSpan(0, n).Count((byte)',')) > max)
                return true;
        return false;
    }

    /// <summary>DIR/trials/tNNNN/entry.json, or null when missing or unreadable.</summary>
    static Entry? ReadEntry(string outDir, SweepTrial t)
    {
        string path = Path.Combine(TrialDir(outDir, t), "entry.json");
        if (!File.Exists(path) || !FileKind.IsRegularFile(path))
            return null;
        try
        {
            using var f = File.OpenRead(path);
            return f.Length > 1 << 20 ? null : JsonSerializer.Deserialize<Entry>(f, JsonOptions);
        }
        catch (Exception e)
            when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Writes the trial's entry.json (atomically): the plan entry it ran and the plan's hash.</summary>
    public static void WriteEntry(string outDir, SweepPlan plan, SweepTrial t, string planHash) =>
        AtomicFile.WriteAllText(
            Path.Combine(TrialDir(outDir, t), "entry.json"),
            JsonSerializer.Serialize(new Entry(plan.Lab, t.Settings, t.Seed, planHash), JsonOptions)
        );

    /// <summary>Why a failed trial has no result: what is wrong with its result.json (judged against the plan's
    /// <paramref name="lab"/> and <paramref name="planHash"/>, which the caller has), else the last line of its stderr
    /// (read from its last <see cref="StderrTailBytes"/>).</summary>
    public static string LastError(string outDir, SweepTrial t, string lab, string planHash)
    {
        string result = Path.Combine(TrialDir(outDir, t), "result.json");
        if (File.Exists(result) && ResultProblem(outDir, t, lab, planHash) is string problem)
            return problem;
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

/// <summary>`torchlabs sweep collect`: each setting's key numbers over its seeds (mean, standard deviation, min, max,
/// the count that finished), the failed trials with their last stderr line, and the report section with
/// figures.</summary>
public static class SweepCollect
{
    /// <summary>The most points a curve keeps for the report's figures (a longer one is thinned evenly, its last point
    /// kept).</summary>
    public const int MaxCurvePoints = 10_000;

    /// <summary>Key numbers and curves of one trial's JSON, by lab. Curves are read in one pass and kept thinned (a
    /// result's 30 million points cost no 30-million-element array).</summary>
    public static (Dictionary<string, double> Numbers, Dictionary<string, double[]> Curves) KeyNumbers(
        string lab,
        JsonElement r
    )
    {
        var numbers = new Dictionary<string, double>();
        var curves = new Dictionary<string, double[]>();
        static double Number(JsonElement v) => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble();
        switch (lab)
        {
            case "optimizers" when r.TryGetProperty("race", out var race) && race.ValueKind == JsonValueKind.Array:
                foreach (var row in race.EnumerateArray())
                    numbers[$"final f ({row.GetProperty("optimizer").GetString()})"] = row.GetProperty("finalF")
                        .GetDouble();
                break;
            case "optimizers":
                var f = Series.Read(r.GetProperty("loss"), Number, OptimizersLab.Target);
                numbers["final f"] = f.Last;
                if (f.FirstBelow >= 0)
                    numbers[$"steps to f < {OptimizersLab.Target}"] = f.FirstBelow;
                curves["f"] = f.Thinned;
                break;
            case "cifar10":
                numbers["test accuracy (%)"] = r.GetProperty("accuracy").GetDouble();
                if (
                    r.TryGetProperty("lossCurve", out var lc)
                    && lc.ValueKind == JsonValueKind.Array
                    && lc.GetArrayLength() > 0
                )
                {
                    var curve = Series.Read(lc, p => p.GetProperty("loss").GetDouble());
                    numbers["final training loss"] = curve.Last;
                    curves["training loss"] = curve.Thinned;
                }
                break;
            case "fashion-mnist":
                foreach (var run in r.GetProperty("runs").EnumerateArray())
                {
                    string o = run.GetProperty("optimizer").GetString()!;
                    numbers[$"test accuracy ({o})"] = run.GetProperty("testAccuracy").GetDouble();
                    var train = Series.Read(run.GetProperty("trainLoss"), Number);
                    numbers[$"final training loss ({o})"] = train.Last;
                    curves[$"training loss ({o})"] = train.Thinned;
                }
                break;
        }
        return (numbers, curves);
    }

    /// <summary>A curve read in one pass: its last value, the first index below a target (−1: none), and at most
    /// <see cref="MaxCurvePoints"/> of its points, evenly spaced, the last one kept.</summary>
    sealed record Series(double Last, int FirstBelow, double[] Thinned)
    {
        public static Series Read(
            JsonElement array,
            Func<JsonElement, double> value,
            double target = double.NegativeInfinity
        )
        {
            int n = array.GetArrayLength(); // throws for a non-array, as a result of another lab's shape should
            if (n == 0)
                throw new IndexOutOfRangeException("an empty curve");
            int kept = Math.Min(n, MaxCurvePoints),
                next = 0,
                firstBelow = -1,
                i = 0;
            var thinned = new double[kept];
            double last = double.NaN;
            foreach (var e in array.EnumerateArray())
            {
                last = value(e);
                if (firstBelow < 0 && last < target)
                    firstBelow = i;
                if (next < kept && i == Index(next, n, kept))
                    thinned[next++] = last;
                i++;
            }
            return new Series(last, firstBelow, thinned);
        }

        static long Index(int k, int n, int kept) => kept == n ? k : (long)k * (n - 1) / (kept - 1);
    }

    /// <summary>One setting's statistics for one key number.</summary>
    public sealed record Stat(
        string Setting,
        string Number,
        int Finished,
        int Trials,
        double Mean,
        double Std,
        double Min,
        double Max
    );

    /// <summary>A trial left out of the statistics, and why.</summary>
    public sealed record Failure(string Id, string Setting, long Seed, string Error);

    public sealed record Collected(
        string Lab,
        IReadOnlyList<Stat> Stats,
        IReadOnlyList<Failure> Failed,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double[][]>> Curves
    );

    public static Collected Collect(string outDir)
    {
        var plan = SweepPlan.Read(Path.Combine(outDir, "sweep.json"));
        string hash = SweepPlan.Hash(outDir);
        var stats = new List<Stat>();
        var failed = new List<Failure>();
        var curves = new Dictionary<string, IReadOnlyDictionary<string, double[][]>>();
        foreach (var group in plan.Trials.GroupBy(t => t.Setting))
        {
            var results = new List<(Dictionary<string, double> Numbers, Dictionary<string, double[]> Curves)>();
            foreach (var t in group)
            {
                using var r = SweepPlan.Result(outDir, t, plan.Lab, hash);
                if (r is null)
                {
                    failed.Add(new(t.Id, t.Setting, t.Seed, SweepPlan.LastError(outDir, t, plan.Lab, hash)));
                    continue;
                }
                try
                {
                    results.Add(KeyNumbers(plan.Lab, r.RootElement));
                }
                catch (Exception e)
                    when (e
                            is InvalidOperationException
                                or IndexOutOfRangeException
                                or NullReferenceException
                                or FormatException
                                or InvalidCastException
                                or KeyNotFoundException
                                or ArgumentException
                    )
                {
                    string why = $"unreadable result.json: not the {plan.Lab} lab's JSON ({e.GetType().Name})";
                    failed.Add(new(t.Id, t.Setting, t.Seed, why));
                }
            }
            foreach (string number in results.SelectMany(r => r.Numbers.Keys).Distinct())
            {
                double[] v = [.. results.Where(r => r.Numbers.ContainsKey(number)).Select(r => r.Numbers[number])];
                var (mean, std) = MeanStd(v);
                stats.Add(new Stat(group.Key, number, v.Length, group.Count(), mean, std, v.Min(), v.Max()));
            }
            curves[group.Key] = results
                .SelectMany(r => r.Curves)
                .GroupBy(kv => kv.Key)
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

    public static Table StatsTable(Collected c) =>
        new(
            ["setting", "key number", "finished", "mean", "std", "min", "max"],
            c.Stats.Select(s =>
                    (IReadOnlyList<string>)
                        [s.Setting, s.Number, $"{s.Finished} of {s.Trials}", G(s.Mean), G(s.Std), G(s.Min), G(s.Max)]
                )
                .ToList()
        );

    /// <summary>The report section: the table, a figure of each key number's mean ± standard deviation over the
    /// settings, the curves as mean with a ± one standard deviation band, and the failed trials (left out of the
    /// statistics).</summary>
    public static ReportSection Section(Collected c, string outDir)
    {
        var blocks = new List<Block>
        {
            new Paragraph(
                $"A sweep of `{c.Lab}` over {c.Stats.Select(s => s.Setting).Distinct().Count()} settings: for every setting, each key number's mean, sample standard deviation, minimum and maximum over the seeds that finished."
            ),
            StatsTable(c),
        };
        foreach (var number in c.Stats.GroupBy(s => s.Number))
        {
            // Settings whose mean or spread overflowed (±∞, NaN) stay in the table, not in the figure.
            var rows = number.Where(r => double.IsFinite(r.Mean) && double.IsFinite(r.Std)).ToList();
            if (rows.Count < number.Count())
                blocks.Add(
                    new Paragraph(
                        $"{number.Key}: {number.Count() - rows.Count} setting(s) with a mean or standard deviation that is not a finite number (an overflow) are in the table only."
                    )
                );
            if (rows.Count == 0)
                continue;
            blocks.Add(
                Figures.Of(
                    Plots.ErrorBars(
                        $"{number.Key}: mean ± standard deviation over seeds",
                        "setting",
                        number.Key,
                        [.. rows.Select(r => r.Setting)],
                        [.. rows.Select(r => r.Mean)],
                        [.. rows.Select(r => r.Std)]
                    ),
                    "sweep-" + Slug(number.Key),
                    $"{number.Key} per setting (mean ± one standard deviation over the seeds)"
                )
            );
        }
        foreach (string curve in c.Curves.Values.SelectMany(d => d.Keys).Distinct())
        {
            var series = c
                .Curves.Where(kv => kv.Value.ContainsKey(curve))
                .Select(kv =>
                {
                    var runs = kv.Value[curve];
                    var steps = Enumerable
                        .Range(0, runs.Min(r => r.Length))
                        .Select(i => MeanStd([.. runs.Select(r => r[i])]))
                        .ToList();
                    return (kv.Key, steps.Select(m => m.Mean).ToArray(), steps.Select(m => m.Std).ToArray());
                })
                .ToList();
            blocks.Add(
                Figures.Of(
                    Plots.Bands(
                        $"{curve}: mean over seeds with a ± one standard deviation band",
                        "step",
                        curve,
                        series
                    ),
                    "sweep-curve-" + Slug(curve),
                    $"{curve}, mean over the seeds of each setting, the band ± one standard deviation"
                )
            );
        }
        if (c.Failed.Count > 0)
        {
            blocks.Add(new Paragraph($"{c.Failed.Count} trial(s) failed and are left out of the statistics above:"));
            blocks.Add(
                new Table(
                    ["trial", "setting", "seed", "last line of stderr"],
                    c.Failed.Select(f =>
                            (IReadOnlyList<string>)
                                [
                                    f.Id,
                                    f.Setting,
                                    f.Seed.ToString(CultureInfo.InvariantCulture),
                                    Printable.Escape(f.Error),
                                ]
                        )
                        .ToList()
                )
            );
        }
        return new ReportSection(
            "sweep",
            $"Sweep: {c.Lab}",
            c.Failed.Count == 0 ? SectionStatus.Ran : SectionStatus.Failed,
            blocks,
            TimeSpan.Zero
        )
        {
            KeyNumber =
                $"{c.Stats.Select(s => s.Setting).Distinct().Count()} settings, {c.Failed.Count} failed trial(s)",
        };
    }

    static string Slug(string s) => new([.. s.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) ? ch : '-')]);
}
