using System.Text.Json;

namespace TorchLabs.Tests.Cli;

/// <summary>
/// #30: `torchlabs sweep` through the local executor and through a real one-node Slurm
/// (scripts/slurm/start-local-cluster.sh, which .ci/run starts; skipped where no Slurm answers), giving the numbers of
/// single runs; resumable; failures listed.
/// </summary>
[Collection("Slurm")] // the two Slurm tests share the one-node cluster: one at a time
public class SweepTests
{
    static readonly string[] Grid = ["optimizers", "--grid", "lr=0.05,1e10", "--seeds", "1-3"];
    static readonly string[] LabOptions = ["--", "--optimizer", "gd", "--steps", "40"];

    static double[] Loss(JsonDocument d) =>
        [.. d.RootElement.GetProperty("loss").EnumerateArray().Select(v => v.GetDouble())];

    /// <summary>The losses of single runs with lr = 0.05 and seeds 1, 2, 3 (run once, in this process, for both
    /// executors).</summary>
    static readonly Lazy<double[][]> SingleRuns = new(() =>
        [
            .. new long[] { 1, 2, 3 }.Select(seed =>
            {
                using var single = TestEnvironment.InProcessJson(
                    "optimizers",
                    "--optimizer",
                    "gd",
                    "--steps",
                    "40",
                    "--lr",
                    "0.05",
                    "--seed",
                    seed.ToString(),
                    "--threads",
                    "1",
                    "--format",
                    "json",
                    "--out",
                    TestEnvironment.NewTempDir()
                );
                return Loss(single);
            }),
        ]
    );

    /// <summary>Each complete trial's loss equals a single run's with the same settings.</summary>
    static void TrialsEqualSingleRuns(string dir)
    {
        foreach (long seed in new long[] { 1, 2, 3 })
        {
            string id = $"t{seed - 1:D4}"; // lr=0.05 comes first, its seeds innermost
            using var trial = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "trials", id, "result.json")));
            Assert.Equal(SingleRuns.Value[seed - 1], Loss(trial));
        }
    }

    static void FailedTrialsListed(string dir, TestEnvironment.ProcessResult r)
    {
        Assert.Equal(1, r.ExitCode); // lr = 1e10 diverges: three failed trials, left out of the statistics
        using var collect = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "collect.json")));
        var failed = collect.RootElement.GetProperty("failed").EnumerateArray().ToList();
        Assert.Equal(3, failed.Count);
        Assert.All(failed, f => Assert.Contains("diverged", f.GetProperty("error").GetString()));
        var settings = collect.RootElement.GetProperty("settings").EnumerateArray().ToList();
        var final = settings.Single(s => s.GetProperty("number").GetString() == "final f");
        Assert.Equal("lr=0.05", final.GetProperty("setting").GetString());
        Assert.Equal(3, final.GetProperty("finished").GetInt32());
        Assert.True(File.Exists(Path.Combine(dir, "report", "index.html")));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Local_GivesSingleRunsNumbers_ListsFailures_AndResumesOnlyWhatIsMissing()
    {
        string dir = TestEnvironment.NewTempDir();
        string[] sweep = [.. Grid, "--out", dir, .. LabOptions];
        var first = TestEnvironment.RunCli(["sweep", .. sweep]);
        FailedTrialsListed(dir, first);
        TrialsEqualSingleRuns(dir);
        // An interruption lost one finished trial: the re-run runs it and the three failed ones, not the others.
        File.Delete(Path.Combine(dir, "trials", "t0001", "result.json"));
        var again = TestEnvironment.RunCli(["sweep", .. sweep]);
        Assert.Contains("6 trials, 2 already complete, 4 to run", again.StdErr);
        Assert.Contains("t0001 lr=0.05 seed 2: ok", again.StdErr);
        TrialsEqualSingleRuns(dir);
        // Another plan in the same folder is refused, unless --force.
        var other = TestEnvironment.RunCli(["sweep", "optimizers", "--grid", "lr=0.2", "--out", dir, .. LabOptions]);
        TestEnvironment.OneLine(other, 2, "holds another sweep");
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("--grid", "learning=0.1", "optimizers has no option --learning")]
    [InlineData("--grid", "seed=1,2", "the sweep sets --seed itself")]
    [InlineData("--grid", "steps=ten", "sweep optimizers --steps ten:")]
    [InlineData("--seeds", "3-1", "expected A-B or S1,S2")]
    [InlineData(
        "--grid",
        "optimizer=gd,lbfgs",
        "sweep optimizers --optimizer lbfgs: --optimizer lbfgs: unknown optimizer"
    )]
    [InlineData("--parallel", "0", "--parallel 0: expected a whole number from 1 to 1024")]
    [InlineData("--parallel", "2147483647", "--parallel 2147483647: expected a whole number from 1 to 1024")]
    public void BadGridOrSeeds_IsOneLine_ExitTwo_BeforeAnythingRuns(string option, string value, string expected)
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunCli("sweep", "optimizers", option, value, "--out", dir);
        TestEnvironment.OneLine(r, 2, expected);
        Assert.False(Directory.Exists(Path.Combine(dir, "trials")));
        Assert.False(File.Exists(Path.Combine(dir, "sweep.json"))); // nothing written
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void DryRun_Slurm_WritesTheScriptAndThePlan_SubmitsNothing()
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunCli([
            "sweep",
            .. Grid,
            "--executor",
            "slurm",
            "--parallel",
            "2",
            "--slurm-partition",
            "gpu",
            "--slurm-gres",
            "gpu:1",
            "--dry-run",
            "--out",
            dir,
            .. LabOptions,
        ]);
        Assert.Equal(0, r.ExitCode);
        string script = File.ReadAllText(Path.Combine(dir, "sweep.sbatch"));
        Assert.Contains("#SBATCH --array=0,1,2,3,4,5%2", script);
        Assert.Contains("#SBATCH --partition=gpu", script);
        Assert.Contains("#SBATCH --gres=gpu:1", script);
        Assert.Contains("#SBATCH --cpus-per-task=1", script);
        Assert.Contains("'sweep' 'trial'", script);
        using var plan = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "sweep.json")));
        Assert.Equal(6, plan.RootElement.GetProperty("trials").GetArrayLength());
        Assert.False(File.Exists(Path.Combine(dir, "collect.json")));
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("--slurm-time", "01:00:00\ntouch PWNED")]
    [InlineData("--slurm-mem", "4G\rtouch PWNED")]
    [InlineData("--slurm-partition", "gpu\ntouch PWNED")]
    [InlineData("--slurm-gres", "gpu:1\ntouch PWNED")]
    [InlineData("--slurm-time", "banana")]
    public void Slurm_ValueThatWouldAddALineToTheScript_IsOneLine_ExitTwo_NothingWritten(string option, string value)
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunCli([
            "sweep",
            .. Grid,
            "--executor",
            "slurm",
            option,
            value,
            "--dry-run",
            "--out",
            dir,
            .. LabOptions,
        ]);
        TestEnvironment.OneLine(r, 2, option);
        Assert.False(File.Exists(Path.Combine(dir, "sweep.sbatch")));
        Assert.False(File.Exists(Path.Combine(dir, "sweep.json")));
    }

    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void Slurm_ScriptForAFolderWithASpaceAndPercent_IsAcceptedBySbatch_AndNamesItLiterally()
    {
        string dir = Path.Combine(TestEnvironment.NewTempDir(), "a sweep 50%");
        var r = TestEnvironment.RunCli([
            "sweep",
            .. Grid,
            "--executor",
            "slurm",
            "--dry-run",
            "--out",
            dir,
            .. LabOptions,
        ]);
        Assert.Equal(0, r.ExitCode);
        string script = Path.Combine(dir, "sweep.sbatch");
        Assert.Contains(
            $"#SBATCH --output=\"{dir.Replace("%", "%%")}/trials/slurm-%A_%a.out\"",
            File.ReadAllText(script)
        );
        Assert.Contains($"sbatch '{script}'", r.StdErr); // the hint, quoted for the shell
        Skip.IfNot(
            SlurmUp(),
            "no Slurm cluster answers here (scripts/slurm/start-local-cluster.sh starts a one-node one)"
        );
        var test = TestEnvironment.Run("sbatch", ["--test-only", script], timeoutMs: 30_000);
        Assert.True(test.ExitCode == 0, test.StdErr);
    }

    /// <summary>
    /// Whether a Slurm cluster answers here with a node that takes jobs (scripts/slurm/start-local-cluster.sh makes
    /// one): idle, or busy with other jobs (mixed, allocated, completing), not down or drained.
    /// </summary>
    internal static bool SlurmUp()
    {
        try
        {
            var states = TestEnvironment
                .Run("sinfo", ["-h", "-o", "%T"], timeoutMs: 20_000)
                .StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return states.Any(s => s.TrimEnd('*') is "idle" or "mixed" or "allocated" or "completing");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void Slurm_GivesTheLocalNumbers_ListsFailures_AndAReRunSubmitsOnlyWhatIsMissing()
    {
        Skip.IfNot(
            SlurmUp(),
            "no Slurm cluster answers here (scripts/slurm/start-local-cluster.sh starts a one-node one)"
        );
        string dir = TestEnvironment.NewTempDir();
        string[] sweep = [.. Grid, "--executor", "slurm", "--out", dir, .. LabOptions];
        var first = TestEnvironment.RunCli(["sweep", .. sweep]);
        Assert.Contains("Slurm job", first.StdErr);
        FailedTrialsListed(dir, first);
        TrialsEqualSingleRuns(dir);
        File.Delete(Path.Combine(dir, "trials", "t0002", "result.json"));
        var again = TestEnvironment.RunCli(["sweep", .. sweep]);
        Assert.Contains("4 array tasks (2 trials already complete)", again.StdErr); // t0002 and the three failed ones
        Assert.Contains("#SBATCH --array=2,3,4,5", File.ReadAllText(Path.Combine(dir, "sweep.sbatch")));
        TrialsEqualSingleRuns(dir);
    }
}

/// <summary>#30: a Slurm array task cancelled with scancel shows as failed, and the same command completes only
/// it.</summary>
[Collection("Slurm")]
public class SweepScancelTests
{
    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void Scancel_OfOneArrayTask_ShowsAsFailed_AndAReRunCompletesOnlyIt()
    {
        Skip.IfNot(
            SweepTests.SlurmUp(),
            "no Slurm cluster answers here (scripts/slurm/start-local-cluster.sh starts a one-node one)"
        );
        string dir = TestEnvironment.NewTempDir();
        // Task 1 must run long enough to be cancelled while it runs, on any machine: 500,000 Adam steps take about 10 s
        // here (150,000 took 3 s, and an idle machine finished it before squeue showed it running). Task 0, 20,000
        // steps, just completes. Two tasks: the node's two CPUs run both.
        string[] args =
        [
            "sweep",
            "optimizers",
            "--grid",
            "steps=20000,500000",
            "--seeds",
            "1",
            "--executor",
            "slurm",
            "--out",
            dir,
            "--",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
        ];
        using var sweep = TestEnvironment.StartCli(args);
        var stdout = sweep.StandardOutput.ReadToEndAsync();
        string? job = null;
        var err = new System.Text.StringBuilder();
        while (sweep.StandardError.ReadLine() is string line)
        {
            err.AppendLine(line);
            if (line.Contains("Slurm job ", StringComparison.Ordinal))
            {
                job = line.Split("Slurm job ")[1].Split(',')[0];
                break;
            }
        }
        Assert.NotNull(job);
        var rest = sweep.StandardError.ReadToEndAsync();
        // Cancel array task 1 once it runs.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!TestEnvironment.Run("squeue", ["-h", "-j", job, "-o", "%i %T"]).StdOut.Contains($"{job}_1 RUNNING"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "task 1 never ran");
            Thread.Sleep(200);
        }
        Assert.Equal(0, TestEnvironment.Run("scancel", [$"{job}_1"]).ExitCode);
        Assert.True(sweep.WaitForExit(300_000), "the sweep did not end");
        err.Append(rest.Result);
        Assert.Equal(1, sweep.ExitCode);
        Assert.Contains("t0001 steps=500000 seed 1: failed", err.ToString());
        Assert.Contains("t0000 steps=20000 seed 1: completed", err.ToString());
        Assert.False(File.Exists(Path.Combine(dir, "trials", "t0001", "result.json")));
        var again = TestEnvironment.RunCli(args);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("1 array tasks (1 trials already complete)", again.StdErr);
        Assert.Contains("#SBATCH --array=1", File.ReadAllText(Path.Combine(dir, "sweep.sbatch")));
        Assert.True(File.Exists(Path.Combine(dir, "trials", "t0001", "result.json")));
    }
}

/// <summary>#30: stopping a local sweep (Ctrl-C is SIGINT; a scheduler or CI sends SIGTERM) stops its running trials
/// and keeps nothing half-made; the same command continues.</summary>
public class SweepStopTests
{
    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void Sigterm_StopsTheRunningTrials_ExitsWith130_AndLeavesNoResultBehind()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "signals as Linux sends them");
        string dir = TestEnvironment.NewTempDir();
        using var sweep = TestEnvironment.StartCli(
            "sweep",
            "optimizers",
            "--grid",
            "lr=0.01,0.02",
            "--seeds",
            "1-2",
            "--out",
            dir,
            "--",
            "--optimizer",
            "adam",
            "--steps",
            "3000000"
        );
        var err = sweep.StandardError.ReadToEndAsync();
        // The first trials are running (each takes far longer): wait for their folders, however slow the machine.
        string trials = Path.Combine(dir, "trials");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (
            (!Directory.Exists(trials) || Directory.GetDirectories(trials).Length == 0)
            && clock.Elapsed < TimeSpan.FromSeconds(120)
        )
            Thread.Sleep(100);
        Thread.Sleep(1000);
        TestEnvironment.Run("kill", ["-TERM", sweep.Id.ToString()]);
        Assert.True(sweep.WaitForExit(30_000), "the sweep did not stop");
        Assert.Equal(130, sweep.ExitCode);
        Assert.Contains("stopped: 0 trials finished; run the same command again to continue", err.Result);
        Assert.Empty(Directory.GetFiles(trials, "result.json", SearchOption.AllDirectories));
        // No trial process is left running.
        Thread.Sleep(500);
        var left = Directory
            .GetDirectories("/proc")
            .Select(d => Path.Combine(d, "cmdline"))
            .Where(File.Exists)
            .Select(f =>
            {
                try
                {
                    return File.ReadAllText(f);
                }
                catch (IOException)
                {
                    return "";
                }
            })
            .Count(cmd =>
                cmd.Contains(dir, StringComparison.Ordinal) && cmd.Contains("--optimizer", StringComparison.Ordinal)
            );
        Assert.Equal(0, left);
    }
}

/// <summary>A trial runs only in its own folder: a plan edited to pass --out (or --seed, --format) to its trials is
/// refused.</summary>
public class SweepTrialCommandLineTests
{
    [Theory]
    [InlineData("--out")]
    [InlineData("--seed")]
    public void PlanWhoseExtraArgumentsSetWhatTheSweepSets_IsOneLine_ExitTwo_NothingRun(string option)
    {
        string dir = TestEnvironment.NewTempDir();
        string elsewhere = TestEnvironment.NewTempDir();
        var plan = TorchLabs.Sweeps.SweepPlan.Expand(
            "optimizers",
            new Dictionary<string, string[]>(),
            [1],
            [option, elsewhere]
        );
        File.WriteAllText(Path.Combine(dir, "sweep.json"), plan.ToJson());
        var r = TestEnvironment.RunInProcess("sweep", "trial", dir, "0");
        TestEnvironment.OneLine(r, 2, $"{option} is set by the sweep for each trial");
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
        Assert.False(Directory.Exists(Path.Combine(dir, "trials")));
    }
}
