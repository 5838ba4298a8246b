using System.Globalization;
using TorchLabs.Sweeps;

namespace TorchLabs.Cli.Commands;

/// <summary>What `torchlabs sweep` was asked to do, bound and checked: the plan, where it goes, and how it
/// runs.</summary>
/// <param name="Slurm">The Slurm settings with --executor slurm; null for the local executor.</param>
/// <summary>A parsed `sweep` command line.</summary>
sealed record SweepRequest(
    string Dir,
    SweepPlan Plan,
    SlurmSweep.Settings? Slurm,
    int Threads,
    int? Parallel,
    bool DryRun,
    bool Force,
    bool Json
);

/// <summary>`torchlabs sweep`'s options, and their binding into a <see cref="SweepRequest"/>: the grid's keys are the
/// lab's own options, and every setting's command line is parsed and validated as the lab's before anything is
/// written.</summary>
sealed class SweepOptions
{
    /// <summary>The most CPUs a Slurm array task is asked for (--cpus-per-task).</summary>
    const int MaxSlurmThreads = 1024;

    /// <summary>Options a sweep sets itself for every trial.</summary>
    static readonly string[] Managed = ["seed", "format", "out"];

    readonly Argument<string> lab = new("LAB") { Description = "The lab: " + string.Join(", ", SweepPlan.Labs) };
    readonly Argument<string[]> passThrough = new("LAB-OPTIONS")
    {
        Description = "After --: options given to every trial as they are",
        Arity = ArgumentArity.ZeroOrMore,
    };
    readonly Option<string[]> grid = new("--grid")
    {
        Description = "KEY=V1,V2,…: one of the lab's own options and its values; repeat for more",
    };
    readonly Option<string> seeds = new("--seeds")
    {
        Description = "A-B (a range) or S1,S2,… (default 1-3)",
        DefaultValueFactory = _ => "1-3",
    };
    readonly Option<string> executor = new("--executor")
    {
        Description = "local or slurm",
        DefaultValueFactory = _ => "local",
    };
    readonly Option<int?> parallel = new("--parallel")
    {
        Description =
            "Trials at a time (local: default cores ÷ each trial's threads; slurm: the array's %N limit, default none)",
    };

    // the sweep's folder: sweep.json, trials/ID/, collect.json, report/
    readonly Option<string> outDir = CommonOptions.Out("out/sweep");
    readonly Option<int?> threads = CommonOptions.Threads();
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<bool> dryRun = new("--dry-run")
    {
        Description = "Write the plan (and, for slurm, the sbatch script); run nothing",
    };
    readonly Option<bool> force = new("--force")
    {
        Description = "Replace a different plan in --out (its trials are deleted)",
    };
    readonly Option<string?> partition = new("--slurm-partition") { Description = "#SBATCH --partition" };
    readonly Option<string> time = new("--slurm-time")
    {
        Description = "#SBATCH --time per trial",
        DefaultValueFactory = _ => "01:00:00",
    };
    readonly Option<string> mem = new("--slurm-mem")
    {
        Description = "#SBATCH --mem per trial",
        DefaultValueFactory = _ => "4G",
    };
    readonly Option<string?> gres = new("--slurm-gres")
    {
        Description = "#SBATCH --gres (gpu:1 with `-- --device cuda` on a CUDA build)",
    };

    public SweepOptions()
    {
        executor.AcceptOnlyFromAmong("local", "slurm");
        threads.Description = "libtorch threads of each trial (passed to it as --threads; default 1)";
    }

    public IEnumerable<Symbol> Symbols =>
        [
            lab,
            passThrough,
            grid,
            seeds,
            executor,
            parallel,
            outDir,
            dryRun,
            force,
            partition,
            time,
            mem,
            gres,
            threads,
            format,
        ];

    public SweepRequest Bind(ParseResult p, Func<RootCommand> root)
    {
        string dir = Path.GetFullPath(p.GetValue(outDir)!);
        if (OutputFolder.Problem(dir) is string problem)
            throw new UsageException(problem);
        string labName = p.GetValue(lab)!;
        if (!SweepPlan.Labs.Contains(labName))
            throw new UsageException(
                $"sweep {Printable.Quote(labName)}: expected one of {string.Join(", ", SweepPlan.Labs)}"
            );
        string[] extra = p.GetValue(passThrough) ?? [];
        var g = ParseGrid(root, labName, p.GetValue(grid) ?? []);
        long[] s = ParseSeeds(p.GetValue(seeds)!);
        if (extra.Contains("--threads"))
            throw new UsageException("give --threads to the sweep (before --), not to the trials");
        bool onSlurm = p.GetValue(executor) == "slurm";
        // Each trial's libtorch threads: at least 1; on Slurm the compute node's CPUs (--cpus-per-task), not this
        // machine's.
        int trialThreads = p.GetValue(threads) is int t
            ? Require.WholeNumber(t, "threads", 1, onSlurm ? MaxSlurmThreads : null)
            : 1;
        extra = [.. extra, "--threads", trialThreads.ToString(CultureInfo.InvariantCulture)];
        int? n = p.GetValue(parallel);
        if (n is < 1 or > SweepPlan.MaxParallel)
            throw new UsageException($"--parallel {n}: expected a whole number from 1 to {SweepPlan.MaxParallel}");
        var plan = SweepPlan.Expand(labName, g, s, extra);
        // The lab checks every trial's settings as here; a Slurm trial's thread count is the node's, so it is checked
        // with 1.
        ValidateSettings(onSlurm ? SweepPlan.Expand(labName, g, s, [.. extra[..^2], "--threads", "1"]) : plan, root);
        var slurm = onSlurm
            ? new SlurmSweep.Settings(
                trialThreads,
                n,
                p.GetValue(partition),
                p.GetValue(time)!,
                p.GetValue(mem)!,
                p.GetValue(gres)
            )
            : null;
        return new SweepRequest(
            dir,
            plan,
            slurm,
            trialThreads,
            n,
            p.GetValue(dryRun),
            p.GetValue(force),
            p.GetValue(format) == "json"
        );
    }

    /// <summary>The options a sweep sets for each of its trials; the arguments after -- may not set them.</summary>
    static readonly string[] SetBySweep = ["--seed", "--format", "--out"];

    /// <summary>
    /// A trial's command line (<see cref="SweepFolder.TrialCommandLine"/>): <c>LAB --KEY VALUE … EXTRA… --seed S
    /// --format json --out FOLDER</c>. Extra arguments that set what the sweep sets for each trial are refused (also
    /// those of a plan edited by hand: its trials then run nowhere but in their own folders).
    /// </summary>
    public static string[] TrialArgs(SweepPlan plan, SweepTrial trial, string folder)
    {
        if (plan.Extra.FirstOrDefault(a => SetBySweep.Contains(a)) is string taken)
            throw new UsageException(
                $"sweep {plan.Lab}: {taken} is set by the sweep for each trial; leave it out of the arguments after --"
            );
        return
        [
            plan.Lab,
            .. trial.Settings.SelectMany(kv => new[] { "--" + kv.Key, kv.Value }),
            .. plan.Extra,
            "--seed",
            trial.Seed.ToString(CultureInfo.InvariantCulture),
            "--format",
            "json",
            "--out",
            folder,
        ];
    }

    /// <summary>Every setting's command line parses as the lab's (types, allowed values) and passes the lab's own
    /// validation (values its parser takes but the lab refuses), with nothing run; the lab's one error line becomes the
    /// sweep's.</summary>
    static void ValidateSettings(SweepPlan plan, Func<RootCommand> root)
    {
        foreach (var trial in plan.Trials.DistinctBy(x => x.Setting))
        {
            var parsed = root().Parse(TrialArgs(plan, trial, SweepPlan.TrialDir(Path.GetTempPath(), trial)));
            string line = string.Join(" ", trial.Settings.Select(kv => $"--{kv.Key} {kv.Value}"));
            if (parsed.Errors.Count > 0)
                throw new UsageException($"sweep {plan.Lab} {line}: {Printable.Escape(parsed.Errors[0].Message)}");
            if (ValidateAsTheLab(parsed) is string refused)
                throw new UsageException(
                    $"sweep {plan.Lab} {line}: {refused.Replace("torchlabs: ", "", StringComparison.Ordinal)}"
                );
        }
    }

    /// <summary>A trial's parsed command line through the lab's own binder (<see cref="CommonOptions.Validate"/>); the
    /// lab's error line, or null when the lab takes the settings.</summary>
    static string? ValidateAsTheLab(System.CommandLine.ParseResult parsed) => CommonOptions.Validate(parsed);

    /// <summary>--grid KEY=V1,V2: the lab's own options (not those the sweep sets); the values are parsed with the
    /// plan's trials.</summary>
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
                throw new UsageException(
                    $"--grid {Printable.Quote(item)}: the sweep sets --{key} itself (use --seeds for seeds)"
                );
            if (command.Options.All(o => o.Name != "--" + key))
                throw new UsageException(
                    $"--grid {Printable.Quote(item)}: {lab} has no option --{key}; expected one of "
                        + string.Join(
                            ", ",
                            command
                                .Options.Select(o => o.Name.TrimStart('-'))
                                .Where(n => !Managed.Contains(n) && n != "help")
                        )
                );
            if (values.Length == 0 || values.Any(v => v.Length == 0))
                throw new UsageException(
                    $"--grid {Printable.Quote(item)}: expected KEY=V1,V2,… with at least one value"
                );
            if (!grid.TryAdd(key, values))
                throw new UsageException($"--grid {key}: given twice");
        }
        return grid;
    }

    static long[] ParseSeeds(string text)
    {
        string bad = $"--seeds {Printable.Quote(text)}: expected A-B or S1,S2,… (whole numbers ≥ 0)";
        var range = text.Split('-');
        if (
            range.Length == 2
            && long.TryParse(range[0], out long a)
            && long.TryParse(range[1], out long b)
            && a >= 0
            && b >= a
        )
            return b - a < 10_000
                ? [.. Enumerable.Range(0, (int)(b - a + 1)).Select(i => a + i)]
                : throw new UsageException(bad + ", at most 10000");
        var list = text.Split(',');
        var seeds = new long[list.Length];
        bool valid = list.Select((v, i) => long.TryParse(v, out seeds[i]) && seeds[i] >= 0).All(ok => ok);
        return valid && seeds.Distinct().Count() == seeds.Length
            ? seeds
            : throw new UsageException(bad + ", each once");
    }
}
