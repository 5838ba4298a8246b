using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchLabs.Reporting;

namespace TorchLabs.Sweeps;

/// <summary>This program as a command line for its child processes: the apphost, or dotnet and the CLI's dll (given by
/// the CLI, which knows which it is).</summary>
public sealed record SelfCommand(string File, string[] Prefix)
{
    public string[] With(params string[] args) => [.. Prefix, .. args];
}

/// <summary>A child process that ran to its end: its exit code and both streams.</summary>
public sealed record ChildOutcome(int Exit, string Out, string Err)
{
    /// <summary>
    /// Runs <paramref name="file"/> to its end, both streams read at once (so neither pipe can fill and stall the
    /// child). While it runs it is in <paramref name="running"/>, if given (under that list's lock), so that a stop can
    /// kill it.
    /// </summary>
    public static ChildOutcome Run(string file, IEnumerable<string> args, List<Process>? running = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (running is not null)
            lock (running)
                running.Add(p);
        try
        {
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return new ChildOutcome(p.ExitCode, o, err.Result);
        }
        finally
        {
            if (running is not null)
                lock (running)
                    running.Remove(p);
        }
    }
}

/// <summary>A sweep's folder: its plan written (or refused over another sweep's), one trial run, the collect
/// written.</summary>
public static class SweepFolder
{
    /// <summary>Writes DIR/sweep.json. A different plan already there is refused unless <paramref name="force"/>; then
    /// everything of the old sweep goes first: its trials, its collect and report, its script.</summary>
    public static void WritePlan(SweepPlan plan, string dir, bool force)
    {
        string path = Path.Combine(dir, "sweep.json");
        if (File.Exists(path))
        {
            var old = SweepPlan.Read(path);
            if (!old.SameTrials(plan))
            {
                if (!force)
                    throw new UsageException(
                        $"{dir}: holds another sweep ({old.Lab}, {old.Trials.Length} trials); use another folder, or replace it (its trials are deleted)"
                    );
                foreach (string sub in new[] { "trials", "report" })
                    if (Directory.Exists(Path.Combine(dir, sub)))
                        Directory.Delete(Path.Combine(dir, sub), recursive: true);
                File.Delete(Path.Combine(dir, "collect.json"));
                File.Delete(Path.Combine(dir, "sweep.sbatch"));
            }
        }
        AtomicFile.WriteAllText(path, plan.ToJson());
    }

    /// <summary>The exit code of a trial whose plan changed while it ran (its result not kept).</summary>
    public const int Stale = 3;

    /// <summary>How the front end runs one trial of a plan: the lab's command line with the trial's settings, the
    /// plan's extra arguments and the notes, writing JSON into <c>folder</c>, the trial's own (a plan whose extra
    /// arguments would write elsewhere is refused there, as bad input).</summary>
    public delegate string[] TrialCommandLine(SweepPlan plan, SweepTrial trial, string folder);

    /// <summary>
    /// Trial <paramref name="index"/> of DIR's plan as its own process (what each local process and each Slurm array
    /// task runs): the lab's command line that <paramref name="commandLine"/> writes for it, into the trial's own
    /// folder; its stderr and exit code kept, its JSON only when it exits 0. Returns the lab's exit code.
    /// </summary>
    public static int RunTrial(string dir, int index, SelfCommand self, TrialCommandLine commandLine)
    {
        var plan = SweepPlan.Read(Path.Combine(dir, "sweep.json"));
        string hash = SweepPlan.Hash(dir);
        if (index < 0 || index >= plan.Trials.Length)
            throw new UsageException($"INDEX {index}: the plan has trials 0 to {plan.Trials.Length - 1}");
        var t = plan.Trials[index];
        string trialDir = SweepPlan.TrialDir(dir, t);
        string[] args = commandLine(plan, t, trialDir);
        Directory.CreateDirectory(trialDir);
        var run = ChildOutcome.Run(self.File, self.With(args));
        File.WriteAllText(Path.Combine(trialDir, "stderr.log"), run.Err);
        File.WriteAllText(Path.Combine(trialDir, "exit"), run.Exit.ToString(CultureInfo.InvariantCulture));
        if (run.Exit != 0)
            return run.Exit;
        // The folder may have been given to another plan while the lab ran (a Slurm task of an older array): then this
        // result is not that plan's, and is not written.
        if (SweepPlan.Hash(dir) != hash)
        {
            File.AppendAllText(
                Path.Combine(trialDir, "stderr.log"),
                "sweep: the plan in this folder changed while the trial ran; its result was not kept\n"
            );
            return Stale;
        }
        try
        {
            SweepPlan.WriteEntry(dir, plan, t, hash);
            AtomicFile.WriteAllText(Path.Combine(trialDir, "result.json"), run.Out);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The lab exited 0 but its result could not be kept (a full disk): say why where the sweep looks for it.
            try
            {
                File.AppendAllText(
                    Path.Combine(trialDir, "stderr.log"),
                    $"sweep: result.json could not be written: {e.Message}\n"
                );
            }
            catch (IOException) { }
            return 1;
        }
        return 0;
    }

    /// <summary>What <see cref="WriteCollect"/> wrote: the statistics, collect.json's text and the report's
    /// folder.</summary>
    public sealed record Written(SweepCollect.Collected Collected, string Json, string ReportDir);

    static readonly JsonSerializerOptions CollectJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Collects DIR's trials into DIR/collect.json and the report DIR/report/index.html.</summary>
    public static Written WriteCollect(string dir)
    {
        var c = SweepCollect.Collect(dir);
        string reportDir = Path.Combine(dir, "report");
        ReportWriter.Write(
            new Report($"TorchLabs sweep: {c.Lab}", [("sweep", dir)], [SweepCollect.Section(c, dir)]),
            reportDir
        );
        var doc = new
        {
            c.Lab,
            Settings = c.Stats,
            c.Failed,
            Report = Path.Combine(reportDir, "index.html"),
        };
        // A statistic can overflow (lr=1e50 gives an infinite standard deviation): JSON has no infinity, so ±∞ and NaN
        // are written as the strings "Infinity", "-Infinity" and "NaN".
        string text = JsonSerializer.Serialize(doc, CollectJson);
        AtomicFile.WriteAllText(Path.Combine(dir, "collect.json"), text);
        return new Written(c, text, reportDir);
    }
}

/// <summary>The local executor: the trials still to run, N at a time, each <c>torchlabs sweep trial DIR
/// I</c>.</summary>
public static class LocalSweep
{
    /// <summary>How a local run ended: the trials it had to run, those that ended (killed ones included), how many of
    /// those failed, whether it was stopped, its wall time.</summary>
    public sealed record Outcome(int ToRun, int Ended, int Failed, bool Stopped, double Seconds);

    /// <summary>
    /// Runs every trial of <paramref name="plan"/> without a result, <paramref name="parallel"/> at a time; complete
    /// trials are skipped. A line per finished trial goes to <paramref name="progress"/>. When <paramref name="stop"/>
    /// is cancelled the running trials are killed with their whole process trees and nothing new starts (a re-run
    /// continues).
    /// </summary>
    public static Outcome Run(
        SweepPlan plan,
        string dir,
        int parallel,
        SelfCommand self,
        Action<string> progress,
        CancellationToken stop
    )
    {
        string hash = SweepPlan.Hash(dir);
        var todo = plan.Trials.Where(t => !SweepPlan.Complete(dir, t, plan.Lab, hash)).ToList();
        progress(
            $"sweep {plan.Lab}: {plan.Trials.Length} trials, {plan.Trials.Length - todo.Count} already complete, {todo.Count} to run, {parallel} at a time"
        );
        var running = new List<Process>();
        using var onStop = stop.Register(() =>
        {
            lock (running)
                foreach (var proc in running)
                    try
                    {
                        proc.Kill(entireProcessTree: true);
                    }
                    catch (InvalidOperationException) { }
        });
        var clock = Stopwatch.StartNew();
        int done = 0,
            failed = 0;
        try
        {
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = parallel }, t =>
            {
                if (stop.IsCancellationRequested)
                    return;
                var trialClock = Stopwatch.StartNew();
                ChildOutcome.Run(
                    self.File,
                    self.With("sweep", "trial", dir, t.Index.ToString(CultureInfo.InvariantCulture)),
                    running
                );
                bool ok = SweepPlan.Complete(dir, t, plan.Lab, hash);
                lock (running)
                {
                    done++;
                    if (!ok)
                        failed++;
                    progress(
                        $"[{done}/{todo.Count}] {t.Id} {t.Setting} seed {t.Seed}: "
                            + (
                                ok ? $"ok in {trialClock.Elapsed.TotalSeconds:F1} s"
                                : stop.IsCancellationRequested ? "stopped"
                                : $"failed: {Printable.Escape(SweepPlan.LastError(dir, t, plan.Lab, hash))}"
                            )
                    );
                }
            });
        }
        catch (InvalidOperationException) when (stop.IsCancellationRequested) { }
        return new Outcome(todo.Count, done, failed, stop.IsCancellationRequested, clock.Elapsed.TotalSeconds);
    }
}

/// <summary>The Slurm executor: one array task per trial still to run, submitted with sbatch, followed with
/// squeue.</summary>
public static class SlurmSweep
{
    /// <summary>The Slurm settings of a sweep's array job (checked with <see cref="SlurmScript.Check"/> before anything
    /// is written).</summary>
    public sealed record Settings(
        int Threads,
        int? Parallel,
        string? Partition,
        string Time,
        string Memory,
        string? Gres
    );

    /// <summary>Writes DIR/sweep.sbatch for the trials without a result; returns its path and those trials.</summary>
    public static (string Script, List<SweepTrial> Todo) WriteScript(
        SweepPlan plan,
        string dir,
        Settings s,
        SelfCommand self
    )
    {
        string hash = SweepPlan.Hash(dir);
        var todo = plan.Trials.Where(t => !SweepPlan.Complete(dir, t, plan.Lab, hash)).ToList();
        string script = Path.Combine(dir, "sweep.sbatch");
        var lines = new List<string>
        {
            "#!/bin/bash",
            $"#SBATCH --job-name=torchlabs-{plan.Lab}",
            $"#SBATCH --array={string.Join(",", todo.Select(t => t.Index))}{(s.Parallel is int n ? $"%{n}" : "")}",
            $"#SBATCH --cpus-per-task={s.Threads}",
            $"#SBATCH --time={s.Time}",
            $"#SBATCH --mem={s.Memory}",
            $"#SBATCH --output={SlurmScript.FilenameOption(Path.Combine(Path.GetFullPath(dir), "trials"), "slurm-%A_%a.out")}",
        };
        if (s.Partition is not null)
            lines.Add($"#SBATCH --partition={s.Partition}");
        if (s.Gres is not null)
            lines.Add($"#SBATCH --gres={s.Gres}");
        lines.Add(
            "# One trial per array task: `torchlabs sweep trial DIR INDEX` runs the lab and keeps its JSON, stderr and exit code."
        );
        string[] command = [self.File, .. self.With("sweep", "trial", dir)];
        lines.Add($"exec {string.Join(" ", command.Select(SlurmScript.ShellQuote))} \"$SLURM_ARRAY_TASK_ID\"");
        Directory.CreateDirectory(Path.Combine(dir, "trials"));
        AtomicFile.WriteAllText(script, string.Join("\n", lines) + "\n");
        return (script, todo);
    }

    /// <summary>sbatch --parsable SCRIPT: the job id.</summary>
    public static string Submit(string script)
    {
        var submit = Slurm("sbatch", ["--parsable", script]);
        if (submit.Exit != 0)
            throw new LabFailedException($"sbatch {script}: {Printable.Escape(submit.Err.Trim())}");
        return submit.Out.Trim().Split(';')[0];
    }

    /// <summary>Follows <paramref name="job"/> with squeue every second until no task is queued (a line to
    /// <paramref name="progress"/> whenever the counts change); then a line per trial, and the number that
    /// failed.</summary>
    public static int Follow(string job, IReadOnlyList<SweepTrial> todo, string dir, Action<string> progress)
    {
        string lab = SweepPlan.Read(Path.Combine(dir, "sweep.json")).Lab,
            hash = SweepPlan.Hash(dir);
        string last = "";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var q = Slurm("squeue", ["-h", "-j", job, "-o", "%T"]);
            var states = q
                .Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .GroupBy(x => x.Trim())
                .Select(gr => $"{gr.Count()} {gr.Key.ToLowerInvariant()}")
                .ToList();
            int complete = todo.Count(t => SweepPlan.Complete(dir, t, lab, hash));
            string line =
                $"job {job}: {(states.Count == 0 ? "none queued" : string.Join(", ", states))}; {complete} of {todo.Count} done";
            if (line != last)
            {
                progress($"[{clock.Elapsed:hh\\:mm\\:ss}] {line}");
                last = line;
            }
            if (
                q.Exit == 0 && states.Count == 0
                || q.Exit != 0 && q.Err.Contains("Invalid job id", StringComparison.Ordinal)
            )
                break;
            Thread.Sleep(1000);
        }
        int failed = 0;
        foreach (var t in todo)
        {
            bool ok = SweepPlan.Complete(dir, t, lab, hash);
            if (!ok)
                failed++;
            progress(
                $"{t.Id} {t.Setting} seed {t.Seed}: {(ok ? "completed" : "failed: " + Printable.Escape(SweepPlan.LastError(dir, t, lab, hash)))}"
            );
        }
        return failed;
    }

    /// <summary>A Slurm command (sbatch, squeue), or one line saying it is not here.</summary>
    static ChildOutcome Slurm(string file, string[] args)
    {
        try
        {
            return ChildOutcome.Run(file, args);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new UsageException(
                $"Slurm: no {file} on PATH (is this a Slurm login node? scripts/slurm/start-local-cluster.sh makes a one-node cluster here)"
            );
        }
    }
}
