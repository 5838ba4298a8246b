using System.Runtime.InteropServices;
using TorchLabs.Sweeps;

namespace TorchLabs.Cli.Commands;

/// <summary>
/// `torchlabs sweep` (#30): a lab's grid × seeds as one process per trial, run here N at a time or as a Slurm job
/// array, resumable, and merged by `sweep collect` into mean ± spread per setting. docs/sweeps.md.
/// </summary>
public static class SweepCommand
{
    /// <param name="root">Builds the whole command line (the labs' commands check the grid's keys and values), given by
    /// the CLI so that the commands do not depend on it.</param>
    public static Command Create(Func<RootCommand> root)
    {
        var options = new SweepOptions();
        var cmd = new Command(
            "sweep",
            "Run a lab over a grid of its options × seeds, here or as a Slurm job array, then merge the trials into mean ± spread per setting"
        );
        cmd.With(options.Symbols);
        cmd.SetAction(p => Outcome.Guard(() => Run(options.Bind(p, root))));
        cmd.Subcommands.Add(Collect());
        cmd.Subcommands.Add(Trial());
        return cmd;
    }

    /// <summary>Writes the plan (the Slurm settings checked first: nothing unchecked goes into the script), then runs
    /// it here or on Slurm, or stops there with --dry-run.</summary>
    static int Run(SweepRequest r)
    {
        if (r.Slurm is { } s)
            SlurmScript.Check(s.Time, s.Memory, s.Partition, s.Gres, r.Dir);
        // One sweep owns the folder at a time, --force or not: a second is refused while the first runs (or follows its
        // array).
        using var owner = OutputFolder.Lock(r.Dir);
        try
        {
            SweepFolder.WritePlan(r.Plan, r.Dir, r.Force);
        }
        catch (UsageException e)
        {
            throw new UsageException($"{Setting.Of("out")} {e.Template} with {Setting.Of("force")}");
        }
        if (r.Slurm is not null)
            return Slurm(r.Plan, r.Dir, r.Slurm, r.DryRun, r.Json);
        if (r.DryRun)
        {
            Console.Error.WriteLine(
                $"plan: {r.Plan.Trials.Length} trials in {Printable.Path(Path.Combine(r.Dir, "sweep.json"))}; nothing run (--dry-run)"
            );
            if (r.Json)
                Json.Print(new { plan = Path.Combine(r.Dir, "sweep.json"), trials = r.Plan.Trials.Length });
            return Outcome.Ok;
        }
        return Local(r.Plan, r.Dir, r.Parallel ?? Math.Max(1, Environment.ProcessorCount / r.Threads), r.Json);
    }

    /// <summary>This program as a command line: the apphost, or dotnet and torchlabs.dll.</summary>
    static SelfCommand Self()
    {
        string process = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? new(process, [typeof(SweepCommand).Assembly.Location])
            : new(process, []);
    }

    /// <summary>The local executor (<see cref="LocalSweep"/>); Ctrl-C (SIGINT) or SIGTERM stops the running trials
    /// (their whole process trees), keeps what finished and exits 130.</summary>
    static int Local(SweepPlan plan, string dir, int parallel, bool json)
    {
        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var r = LocalSweep.Run(plan, dir, parallel, Self(), Console.Error.WriteLine, stop.Token);
        if (r.Stopped)
        {
            Console.Error.WriteLine(
                $"stopped: {r.Ended - r.Failed} trials finished; run the same command again to continue"
            );
            return 130;
        }
        Console.Error.WriteLine($"sweep: {r.ToRun} trials run in {r.Seconds:F1} s, {r.Failed} failed");
        return Summarise(dir, r.Failed, json);
    }

    /// <summary>The Slurm executor (<see cref="SlurmSweep"/>): the script, then sbatch (unless --dry-run), then squeue
    /// until the array is done.</summary>
    static int Slurm(SweepPlan plan, string dir, SlurmSweep.Settings settings, bool dryRun, bool json)
    {
        var (script, todo) = SlurmSweep.WriteScript(plan, dir, settings, Self());
        if (todo.Count == 0)
        {
            Console.Error.WriteLine($"sweep {plan.Lab}: all {plan.Trials.Length} trials complete; nothing to submit");
            return Summarise(dir, 0, json);
        }
        if (dryRun)
        {
            string planLine = $"plan: {plan.Trials.Length} trials ({todo.Count} to run); script {script}";
            Console.Error.WriteLine(
                Printable.Escape($"{planLine}; submit with: sbatch {SlurmScript.ShellQuote(script)}", int.MaxValue)
            );
            if (json)
                Json.Print(
                    new
                    {
                        plan = Path.Combine(dir, "sweep.json"),
                        script,
                        trials = plan.Trials.Length,
                    }
                );
            return Outcome.Ok;
        }
        string job = SlurmSweep.Submit(script);
        Console.Error.WriteLine(
            $"sweep {plan.Lab}: Slurm job {job}, {todo.Count} array tasks ({plan.Trials.Length - todo.Count} trials already complete)"
        );
        return Summarise(dir, SlurmSweep.Follow(job, todo, dir, Console.Error.WriteLine), json);
    }

    /// <summary>Collects at the end of a sweep; exit 1 when a trial failed (re-run the command to retry only
    /// those).</summary>
    static int Summarise(string dir, int failed, bool json)
    {
        WriteCollect(dir, json);
        if (failed > 0)
            Console.Error.WriteLine($"{failed} trial(s) failed; run the same command again to retry only those");
        return failed > 0 ? Outcome.Failed : Outcome.Ok;
    }

    static void WriteCollect(string dir, bool json)
    {
        var w = SweepFolder.WriteCollect(dir);
        if (json)
            Console.WriteLine(w.Json);
        else
        {
            ConsoleTables.Write(SweepCollect.StatsTable(w.Collected));
            foreach (var f in w.Collected.Failed)
                Console.WriteLine($"failed {f.Id} ({f.Setting}, seed {f.Seed}): {Printable.Escape(f.Error)}");
            Console.Error.WriteLine(
                $"collected: {Printable.Path(Path.Combine(dir, "collect.json"))} and {Printable.Path(Path.Combine(w.ReportDir, "index.html"))}"
            );
        }
    }

    static Command Collect()
    {
        var dir = new Argument<string>("DIR") { Description = "The sweep's folder (--out of `torchlabs sweep`)" };
        var format = CommonOptions.Format();
        var cmd = new Command(
            "collect",
            "Merge a sweep's trials: mean, standard deviation, min and max over seeds per setting; the failed trials; DIR/collect.json and DIR/report/index.html"
        )
        {
            dir,
            format,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                string d = Path.GetFullPath(p.GetValue(dir)!);
                if (!File.Exists(Path.Combine(d, "sweep.json")))
                    throw new UsageException($"{d}: no sweep.json (not a sweep's --out)");
                WriteCollect(d, p.GetValue(format) == "json");
                return Outcome.Ok;
            })
        );
        return cmd;
    }

    /// <summary>`sweep trial DIR I`: runs trial I of DIR's plan as its own process; its JSON is kept only when it exits
    /// 0.</summary>
    static Command Trial()
    {
        var dir = new Argument<string>("DIR");
        var index = new Argument<int>("INDEX");
        var format = CommonOptions.Format();
        var cmd = new Command(
            "trial",
            "Run one trial of a sweep (what each local process and each Slurm array task runs)"
        )
        {
            dir,
            index,
            format,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
                SweepFolder.RunTrial(
                    Path.GetFullPath(p.GetValue(dir)!),
                    p.GetValue(index),
                    Self(),
                    SweepOptions.TrialArgs
                )
            )
        );
        return cmd;
    }
}
