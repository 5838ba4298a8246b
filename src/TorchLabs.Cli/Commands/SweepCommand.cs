using System.Runtime.InteropServices;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchLabs.Labs;
using TorchLabs.Reporting;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>
/// `torchlabs sweep` (#30): a lab's grid × seeds as one process per trial, run here N at a time or as a Slurm job array, resumable,
/// and merged by `sweep collect` into mean ± spread per setting. docs/sweeps.md.
/// </summary>
public static class SweepCommand
{
    /// <summary>Options a sweep sets itself for every trial.</summary>
    static readonly string[] Managed = ["seed", "format", "out"];

    /// <param name="root">Builds the whole command line (the labs' commands check the grid's keys and values), given by the CLI
    /// so that the commands do not depend on it.</param>
    public static Command Create(Func<RootCommand> root)
    {
        var lab = new Argument<string>("LAB") { Description = "The lab: " + string.Join(", ", SweepPlan.Labs) };
        var passThrough = new Argument<string[]>("LAB-OPTIONS")
        {
            Description = "After --: options given to every trial as they are", Arity = ArgumentArity.ZeroOrMore,
        };
        var grid = new Option<string[]>("--grid")
        {
            Description = "KEY=V1,V2,…: one of the lab's own options and its values; repeat for more",
        };
        var seeds = new Option<string>("--seeds")
        {
            Description = "A-B (a range) or S1,S2,… (default 1-3)", DefaultValueFactory = _ => "1-3",
        };
        var executor = new Option<string>("--executor") { Description = "local or slurm", DefaultValueFactory = _ => "local" };
        executor.AcceptOnlyFromAmong("local", "slurm");
        var parallel = new Option<int?>("--parallel")
        {
            Description = "Trials at a time (local: default cores ÷ each trial's threads; slurm: the array's %N limit, default none)",
        };
        var outDir = CommonOptions.Out("out/sweep");   // the sweep's folder: sweep.json, trials/ID/, collect.json, report/
        var threads = CommonOptions.Threads();
        threads.Description = "libtorch threads of each trial (passed to it as --threads; default 1)";
        var format = CommonOptions.Format();
        var dryRun = new Option<bool>("--dry-run") { Description = "Write the plan (and, for slurm, the sbatch script); run nothing" };
        var force = new Option<bool>("--force") { Description = "Replace a different plan in --out (its trials are deleted)" };
        var partition = new Option<string?>("--slurm-partition") { Description = "#SBATCH --partition" };
        var time = new Option<string>("--slurm-time") { Description = "#SBATCH --time per trial", DefaultValueFactory = _ => "01:00:00" };
        var mem = new Option<string>("--slurm-mem") { Description = "#SBATCH --mem per trial", DefaultValueFactory = _ => "4G" };
        var gres = new Option<string?>("--slurm-gres") { Description = "#SBATCH --gres (gpu:1 with `-- --device cuda` on a CUDA build)" };
        var cmd = new Command("sweep", "Run a lab over a grid of its options × seeds, here or as a Slurm job array, then merge the " +
            "trials into mean ± spread per setting")
            { lab, passThrough, grid, seeds, executor, parallel, outDir, dryRun, force, partition, time, mem, gres, threads, format };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            string dir = Path.GetFullPath(p.GetValue(outDir)!);
            if (OutputFolder.Problem(dir) is string problem) throw new UsageException(problem);
            string labName = p.GetValue(lab)!;
            if (!SweepPlan.Labs.Contains(labName))
                throw new UsageException($"sweep {Printable.Quote(labName)}: expected one of {string.Join(", ", SweepPlan.Labs)}");
            string[] extra = p.GetValue(passThrough) ?? [];
            var g = ParseGrid(root, labName, p.GetValue(grid) ?? []);
            long[] s = ParseSeeds(p.GetValue(seeds)!);
            if (extra.Contains("--threads")) throw new UsageException("give --threads to the sweep (before --), not to the trials");
            int trialThreads = p.GetValue(threads) is int t and > 0 ? t : 1;
            extra = [.. extra, "--threads", trialThreads.ToString(CultureInfo.InvariantCulture)];
            bool json = p.GetValue(format) == "json";
            int? n = p.GetValue(parallel);
            if (n is < 1 or > SweepPlan.MaxParallel)
                throw new UsageException($"--parallel {n}: expected a whole number from 1 to {SweepPlan.MaxParallel}");
            var plan = SweepPlan.Expand(labName, dir, g, s, extra);
            // Every setting's command line must parse as the lab's (types, allowed values) before anything is written or run.
            foreach (var trial in plan.Trials.DistinctBy(x => x.Setting))
            {
                var parsed = root().Parse(trial.Args);
                string line = string.Join(" ", trial.Settings.Select(kv => $"--{kv.Key} {kv.Value}"));
                if (parsed.Errors.Count > 0)
                    throw new UsageException($"sweep {labName} {line}: {Printable.Escape(parsed.Errors[0].Message)}");
                // The lab's own validation too (values its parser takes but the lab refuses), with nothing run; the lab's one error
                // line becomes the sweep's.
                if (ValidateAsTheLab(parsed) is string refused)
                    throw new UsageException($"sweep {labName} {line}: {refused.Replace("torchlabs: ", "", StringComparison.Ordinal)}");
            }
            if (p.GetValue(executor) == "slurm")   // before anything is written: nothing unchecked goes into the script
                SlurmScript.Check(p.GetValue(time)!, p.GetValue(mem)!, p.GetValue(partition), p.GetValue(gres), Path.GetFullPath(dir));
            WritePlan(plan, dir, p.GetValue(force));
            if (p.GetValue(executor) == "slurm")
                return Slurm(plan, dir, trialThreads, n, p.GetValue(partition), p.GetValue(time)!, p.GetValue(mem)!, p.GetValue(gres),
                    p.GetValue(dryRun), json);
            if (p.GetValue(dryRun))
            {
                Console.Error.WriteLine($"plan: {plan.Trials.Length} trials in {Path.Combine(dir, "sweep.json")}; nothing run (--dry-run)");
                if (json) Json.Print(new { plan = Path.Combine(dir, "sweep.json"), trials = plan.Trials.Length });
                return Outcome.Ok;
            }
            return Local(plan, dir, n ?? Math.Max(1, Environment.ProcessorCount / trialThreads), json);
        }));
        cmd.Subcommands.Add(Collect());
        cmd.Subcommands.Add(Trial());
        return cmd;
    }

    /// <summary>Runs a trial's parsed command line in <see cref="CommonOptions.ValidateOnly"/> mode; the lab's error line, or
    /// null when the lab takes the settings.</summary>
    static string? ValidateAsTheLab(System.CommandLine.ParseResult parsed)
    {
        var stderr = Console.Error;
        using var captured = new StringWriter();
        CommonOptions.ValidateOnly.Value = true;
        Console.SetError(captured);
        try { return parsed.Invoke() == Outcome.Ok ? null : captured.ToString().Trim(); }
        finally
        {
            Console.SetError(stderr);
            CommonOptions.ValidateOnly.Value = false;
        }
    }

    /// <summary>--grid KEY=V1,V2: the lab's own options (not those the sweep sets); the values are parsed with the plan's trials.</summary>
    static Dictionary<string, string[]> ParseGrid(Func<RootCommand> root, string lab, string[] items)
    {
        var command = root().Subcommands.First(c => c.Name == lab);
        var grid = new Dictionary<string, string[]>();
        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            string key = eq < 0 ? item : item[..eq];
            string[] values = eq < 0 ? [] : SweepPlan.SplitGridValues(item[(eq + 1)..]);
            if (Managed.Contains(key))
                throw new UsageException($"--grid {Printable.Quote(item)}: the sweep sets --{key} itself (use --seeds for seeds)");
            if (command.Options.All(o => o.Name != "--" + key))
                throw new UsageException($"--grid {Printable.Quote(item)}: {lab} has no option --{key}; expected one of " +
                    string.Join(", ", command.Options.Select(o => o.Name.TrimStart('-')).Where(n => !Managed.Contains(n) && n != "help")));
            if (values.Length == 0 || values.Any(v => v.Length == 0))
                throw new UsageException($"--grid {Printable.Quote(item)}: expected KEY=V1,V2,… with at least one value");
            if (!grid.TryAdd(key, values)) throw new UsageException($"--grid {key}: given twice");
        }
        return grid;
    }

    static long[] ParseSeeds(string text)
    {
        string bad = $"--seeds {Printable.Quote(text)}: expected A-B or S1,S2,… (whole numbers ≥ 0)";
        var range = text.Split('-');
        if (range.Length == 2 && long.TryParse(range[0], out long a) && long.TryParse(range[1], out long b) && a >= 0 && b >= a)
            return b - a < 10_000
                ? [.. Enumerable.Range(0, (int)(b - a + 1)).Select(i => a + i)] : throw new UsageException(bad + ", at most 10000");
        var list = text.Split(',');
        var seeds = new long[list.Length];
        bool valid = list.Select((v, i) => long.TryParse(v, out seeds[i]) && seeds[i] >= 0).All(ok => ok);
        return valid && seeds.Distinct().Count() == seeds.Length
            ? seeds : throw new UsageException(bad + ", each once");
    }

    /// <summary>Writes DIR/sweep.json; a different plan already there is refused unless <paramref name="force"/>.</summary>
    static void WritePlan(SweepPlan plan, string dir, bool force)
    {
        string path = Path.Combine(dir, "sweep.json");
        if (File.Exists(path))
        {
            var old = SweepPlan.Read(path);
            if (!old.SameTrials(plan))
            {
                if (!force)
                    throw new UsageException($"--out {dir}: holds another sweep ({old.Lab}, {old.Trials.Length} trials); use another " +
                        "folder, " +
                        "or --force to replace it (its trials are deleted)");
                // Everything of the old sweep goes: its trials, its collect and report, its script.
                if (Directory.Exists(Path.Combine(dir, "trials"))) Directory.Delete(Path.Combine(dir, "trials"), recursive: true);
                if (Directory.Exists(Path.Combine(dir, "report"))) Directory.Delete(Path.Combine(dir, "report"), recursive: true);
                File.Delete(Path.Combine(dir, "collect.json"));
                File.Delete(Path.Combine(dir, "sweep.sbatch"));
            }
        }
        AtomicFile.WriteAllText(path, plan.ToJson());
    }

    /// <summary>This program as a command line: the apphost, or dotnet and torchlabs.dll.</summary>
    static (string File, string[] Prefix) Self()
    {
        string process = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? (process, [typeof(SweepCommand).Assembly.Location]) : (process, []);
    }

    static string Quote(string s) => SlurmScript.ShellQuote(s);

    /// <summary>The local executor: N trials at a time, each `torchlabs sweep trial DIR I`; complete trials are skipped; Ctrl-C stops
    /// the running ones (a re-run continues).</summary>
    static int Local(SweepPlan plan, string dir, int parallel, bool json)
    {
        var todo = plan.Trials.Where(t => SweepPlan.Result(dir, t) is null).ToList();
        Console.Error.WriteLine($"sweep {plan.Lab}: {plan.Trials.Length} trials, {plan.Trials.Length - todo.Count} already complete, " +
            $"{todo.Count} to run, {parallel} at a time");
        var running = new List<Process>();
        bool stopped = false;
        // Ctrl-C (SIGINT) or SIGTERM: stop the running trials (their whole process trees), keep what finished, exit 130.
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopped = true;
            lock (running) foreach (var proc in running) try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var clock = Stopwatch.StartNew();
        int done = 0, failed = 0;
        try
        {
            var (file, prefix) = Self();
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = parallel }, t =>
            {
                if (stopped) return;
                var trialClock = Stopwatch.StartNew();
                RunToEnd(file, [.. prefix, "sweep", "trial", dir, t.Index.ToString(CultureInfo.InvariantCulture)], running);
                bool ok = SweepPlan.Result(dir, t) is not null;
                lock (running)
                {
                    done++;
                    if (!ok) failed++;
                    Console.Error.WriteLine($"[{done}/{todo.Count}] {t.Id} {t.Setting} seed {t.Seed}: " + (ok
                        ? $"ok in {trialClock.Elapsed.TotalSeconds:F1} s" : stopped ? "stopped"
                        : $"failed: {Printable.Escape(SweepPlan.LastError(dir, t))}"));
                }
            });
        }
        catch (InvalidOperationException) when (stopped) { }
        if (stopped)
        {
            Console.Error.WriteLine($"stopped: {done - failed} trials finished; run the same command again to continue");
            return 130;
        }
        Console.Error.WriteLine($"sweep: {todo.Count} trials run in {clock.Elapsed.TotalSeconds:F1} s, {failed} failed");
        return Summarise(dir, failed, json);
    }

    /// <summary>The Slurm executor: one array task per trial still to run, submitted with sbatch, followed with squeue.</summary>
    static int Slurm(SweepPlan plan, string dir, int threads, int? parallel, string? partition, string time, string mem, string? gres,
        bool dryRun, bool json)
    {
        var todo = plan.Trials.Where(t => SweepPlan.Result(dir, t) is null).ToList();
        var (file, prefix) = Self();
        string script = Path.Combine(dir, "sweep.sbatch");
        var lines = new List<string>
        {
            "#!/bin/bash",
            $"#SBATCH --job-name=torchlabs-{plan.Lab}",
            $"#SBATCH --array={string.Join(",", todo.Select(t => t.Index))}{(parallel is int n ? $"%{n}" : "")}",
            $"#SBATCH --cpus-per-task={threads}",
            $"#SBATCH --time={time}",
            $"#SBATCH --mem={mem}",
            $"#SBATCH --output={SlurmScript.FilenameOption(Path.Combine(Path.GetFullPath(dir), "trials"), "slurm-%A_%a.out")}",
        };
        if (partition is not null) lines.Add($"#SBATCH --partition={partition}");
        if (gres is not null) lines.Add($"#SBATCH --gres={gres}");
        lines.Add("# One trial per array task: `torchlabs sweep trial DIR INDEX` runs the lab and keeps its JSON, stderr and exit code.");
        lines.Add($"exec {string.Join(" ", ((string[])[file, .. prefix, "sweep", "trial", dir]).Select(Quote))} \"$SLURM_ARRAY_TASK_ID\"");
        Directory.CreateDirectory(Path.Combine(dir, "trials"));
        AtomicFile.WriteAllText(script, string.Join("\n", lines) + "\n");
        if (todo.Count == 0)
        {
            Console.Error.WriteLine($"sweep {plan.Lab}: all {plan.Trials.Length} trials complete; nothing to submit");
            return Summarise(dir, 0, json);
        }
        if (dryRun)
        {
            string planLine = $"plan: {plan.Trials.Length} trials ({todo.Count} to run); script {script}";
            Console.Error.WriteLine(Printable.Escape($"{planLine}; submit with: sbatch {SlurmScript.ShellQuote(script)}", int.MaxValue));
            if (json) Json.Print(new { plan = Path.Combine(dir, "sweep.json"), script, trials = plan.Trials.Length });
            return Outcome.Ok;
        }
        var submit = Run("sbatch", ["--parsable", script]);
        if (submit.Exit != 0) throw new LabFailedException($"sbatch {script}: {Printable.Escape(submit.Err.Trim())}");
        string job = submit.Out.Trim().Split(';')[0];
        Console.Error.WriteLine($"sweep {plan.Lab}: Slurm job {job}, {todo.Count} array tasks ({plan.Trials.Length - todo.Count} trials " +
            "already " +
            "complete)");
        string last = "";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var q = Run("squeue", ["-h", "-j", job, "-o", "%T"]);
            var states = q.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).GroupBy(x => x.Trim())
                .Select(gr => $"{gr.Count()} {gr.Key.ToLowerInvariant()}").ToList();
            int complete = todo.Count(t => SweepPlan.Result(dir, t) is not null);
            string line = $"job {job}: {(states.Count == 0 ? "none queued" : string.Join(", ", states))}; {complete} of {todo.Count} done";
            if (line != last) { Console.Error.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {line}"); last = line; }
            if (q.Exit == 0 && states.Count == 0 || q.Exit != 0 && q.Err.Contains("Invalid job id", StringComparison.Ordinal)) break;
            Thread.Sleep(1000);
        }
        int failed = 0;
        foreach (var t in todo)
        {
            bool ok = SweepPlan.Result(dir, t) is not null;
            if (!ok) failed++;
            string state = ok ? "completed" : "failed: " + Printable.Escape(SweepPlan.LastError(dir, t));
            Console.Error.WriteLine($"{t.Id} {t.Setting} seed {t.Seed}: {state}");
        }
        return Summarise(dir, failed, json);
    }

    /// <summary>
    /// Runs <paramref name="file"/> to its end and returns its exit code and output, both streams read at once (so neither pipe
    /// can fill and stall the child). While it runs it is in <paramref name="running"/>, if given (under that list's lock).
    /// </summary>
    static (int Exit, string Out, string Err) RunToEnd(string file, IEnumerable<string> args, List<Process>? running = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (running is not null) lock (running) running.Add(p);
        try
        {
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, o, err.Result);
        }
        finally
        {
            if (running is not null) lock (running) running.Remove(p);
        }
    }

    /// <summary>A Slurm command (sbatch, squeue), or one line saying it is not here.</summary>
    static (int Exit, string Out, string Err) Run(string file, string[] args)
    {
        try
        {
            return RunToEnd(file, args);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new UsageException($"--executor slurm: no {file} on PATH (is this a Slurm login node? " +
                "scripts/slurm/start-local-cluster.sh " +
                "makes a one-node cluster here)");
        }
    }

    /// <summary>Collects at the end of a sweep; exit 1 when a trial failed (re-run the command to retry only those).</summary>
    static int Summarise(string dir, int failed, bool json)
    {
        WriteCollect(dir, json);
        if (failed > 0) Console.Error.WriteLine($"{failed} trial(s) failed; run the same command again to retry only those");
        return failed > 0 ? Outcome.Failed : Outcome.Ok;
    }

    static void WriteCollect(string dir, bool json)
    {
        var c = SweepCollect.Collect(dir);
        var section = SweepCollect.Section(c, dir);
        string reportDir = Path.Combine(dir, "report");
        ReportWriter.Write(new Report($"TorchLabs sweep: {c.Lab}", [("sweep", dir)], [section]), reportDir);
        var doc = new
        {
            lab = c.Lab,
            settings = c.Stats.Select(s => new
            {
                setting = s.Setting, number = s.Number, finished = s.Finished, trials = s.Trials,
                mean = s.Mean, std = s.Std, min = s.Min, max = s.Max
            }),
            failed = c.Failed.Select(f => new { id = f.Id, setting = f.Setting, seed = f.Seed, error = f.Error }),
            report = Path.Combine(reportDir, "index.html"),
        };
        // A statistic can overflow (lr=1e50 gives an infinite standard deviation): JSON has no infinity, so ±∞ and NaN are written
        // as the strings "Infinity", "-Infinity" and "NaN".
        string text = JsonSerializer.Serialize(doc, new JsonSerializerOptions
        {
            WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
        AtomicFile.WriteAllText(Path.Combine(dir, "collect.json"), text);
        if (json) Console.WriteLine(text);
        else
        {
            ConsoleTables.Write(SweepCollect.StatsTable(c));
            foreach (var f in c.Failed) Console.WriteLine($"failed {f.Id} ({f.Setting}, seed {f.Seed}): {Printable.Escape(f.Error)}");
            Console.Error.WriteLine($"collected: {Path.Combine(dir, "collect.json")} and {Path.Combine(reportDir, "index.html")}");
        }
    }

    static Command Collect()
    {
        var dir = new Argument<string>("DIR") { Description = "The sweep's folder (--out of `torchlabs sweep`)" };
        var format = CommonOptions.Format();
        var cmd = new Command("collect", "Merge a sweep's trials: mean, standard deviation, min and max over seeds per setting; the " +
            "failed trials; DIR/collect.json and DIR/report/index.html") { dir, format };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            string d = Path.GetFullPath(p.GetValue(dir)!);
            if (!File.Exists(Path.Combine(d, "sweep.json"))) throw new UsageException($"{d}: no sweep.json (not a sweep's --out)");
            WriteCollect(d, p.GetValue(format) == "json");
            return Outcome.Ok;
        }));
        return cmd;
    }

    /// <summary>`sweep trial DIR I`: runs trial I of DIR's plan as its own process; its JSON is kept only when it exits 0.</summary>
    static Command Trial()
    {
        var dir = new Argument<string>("DIR");
        var index = new Argument<int>("INDEX");
        var format = CommonOptions.Format();
        var cmd = new Command("trial", "Run one trial of a sweep (what each local process and each Slurm array task runs)")
            { dir, index, format };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            string d = Path.GetFullPath(p.GetValue(dir)!);
            var plan = SweepPlan.Read(Path.Combine(d, "sweep.json"));
            int i = p.GetValue(index);
            if (i < 0 || i >= plan.Trials.Length) throw new UsageException($"INDEX {i}: the plan has trials 0 to {plan.Trials.Length - 1}");
            var t = plan.Trials[i];
            string trialDir = SweepPlan.TrialDir(d, t);
            // The command line comes from sweep.json: it must be the plan's lab writing into this trial's own folder.
            if (t.Args.Length < 2 || t.Args[0] != plan.Lab || t.Args[^2] != "--out" || t.Args.Count(a => a == "--out") != 1
                || Path.GetFullPath(t.Args[^1]) != trialDir)
                throw new UsageException($"{Path.Combine(d, "sweep.json")}: trial {i}'s command line is not {plan.Lab} … --out {trialDir}");
            Directory.CreateDirectory(trialDir);
            var (file, prefix) = Self();
            var (exit, stdout, stderr) = RunToEnd(file, [.. prefix, .. t.Args]);
            File.WriteAllText(Path.Combine(trialDir, "stderr.log"), stderr);
            File.WriteAllText(Path.Combine(trialDir, "exit"), exit.ToString(CultureInfo.InvariantCulture));
            if (exit == 0) AtomicFile.WriteAllText(Path.Combine(trialDir, "result.json"), stdout);
            return exit;
        }));
        return cmd;
    }
}
