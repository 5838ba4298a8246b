using System.Diagnostics;
using TorchLabs.Sweeps;

namespace TorchLabs.Tests.Reliability;

/// <summary>
/// docs/reliability.md, round five: a sweep folder has one owner at a time (two real processes raced into one folder),
/// a trial's result counts only under the plan entry it ran, result.json's size cap reads what a link points to, a
/// large result is read with bounded memory, and grid values that make one setting twice are refused.
/// </summary>
public class RoundFiveSweepTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void SecondSweepIntoAFolderInUse_IsRefused_WithForceToo_AndTheFirstCountsOnlyItsOwnResults()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "flock, as Linux gives it");
        string dir = TestEnvironment.NewTempDir();
        var clock = Stopwatch.StartNew();
        using var first = TestEnvironment.StartCli(
            "sweep",
            "optimizers",
            "--grid",
            "lr=0.001",
            "--seeds",
            "1-2",
            "--parallel",
            "1",
            "--out",
            dir,
            "--",
            "--optimizer",
            "adam",
            "--steps",
            "200000"
        );
        var firstErr = first.StandardError.ReadToEndAsync();
        // The first owns the folder once its plan is written.
        while (!File.Exists(Path.Combine(dir, "sweep.json")) && clock.Elapsed < TimeSpan.FromSeconds(60))
            Thread.Sleep(50);
        double startedAt = clock.Elapsed.TotalSeconds;
        foreach (string[] extra in new[] { new[] { "--force" }, Array.Empty<string>() })
        {
            var second = TestEnvironment.RunCli([
                .. new[] { "sweep", "optimizers", "--grid", "lr=0.02", "--seeds", "1-2", "--out", dir },
                .. extra,
                "--",
                "--optimizer",
                "adam",
                "--steps",
                "10",
            ]);
            // before: --force deleted trials/ under the running sweep
            TestEnvironment.OneLine(second, 2, "another torchlabs run");
        }
        output.WriteLine(
            $"first sweep's plan after {startedAt:F1} s; both second sweeps refused by {clock.Elapsed.TotalSeconds:F1} s"
        );
        Assert.True(first.WaitForExit(300_000), "the first sweep did not end");
        output.WriteLine($"first sweep ended after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("2 trials run", firstErr.Result);
        var c = SweepCollect.Collect(dir);
        Assert.All(c.Stats, s => Assert.Equal("lr=0.001", s.Setting));
        Assert.Equal(2, c.Stats.First(s => s.Number == "final f").Finished);
    }

    [Fact]
    public void ResultOfAnotherPlan_IsStale_NeverCounted_AndRunAgain()
    {
        var (dir, trial) = OneTrialFolder(); // lr=0.001, its entry written
        File.WriteAllText(Path.Combine(trial, "result.json"), "{\"loss\":[1.0,0.5]}");
        Assert.Single(SweepCollect.Collect(dir).Stats);
        // Another plan takes the folder (as a forced sweep would, once the first has ended); the old result stays on
        // disk.
        var b = SweepPlan.Expand(
            "optimizers",
            new Dictionary<string, string[]> { ["lr"] = ["0.02"] },
            [1],
            ["--steps", "2"]
        );
        File.WriteAllText(Path.Combine(dir, "sweep.json"), b.ToJson());
        var c = SweepCollect.Collect(dir);
        Assert.Empty(c.Stats); // before: counted under lr=0.02
        Assert.Contains("stale", Assert.Single(c.Failed).Error);
        Assert.False(SweepPlan.Complete(dir, b.Trials[0], b.Lab, SweepPlan.Hash(dir))); // so the executors run it again
    }

    [SkippableFact]
    public void ResultThatIsALinkToALargeFile_IsMeasuredByItsTarget()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links");
        var (dir, trial) = OneTrialFolder();
        string big = Path.Combine(dir, "big.json");
        using (var f = File.Create(big))
            f.SetLength(SweepPlan.MaxResultBytes + 1); // sparse: 64 MiB + 1 byte, read by nobody
        File.CreateSymbolicLink(Path.Combine(trial, "result.json"), big);
        // before: the link's length (a few bytes) passed the cap and the target was read whole
        var c = SweepCollect.Collect(dir);
        Assert.Contains("larger than 64 MiB", Assert.Single(c.Failed).Error);
    }

    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void SixtyMegabyteResult_IsReadWithBoundedMemory()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "peak RSS from /proc");
        var (dir, trial) = OneTrialFolder();
        using (var w = new StreamWriter(Path.Combine(trial, "result.json")))
        {
            w.Write("{\"loss\":[");
            for (int i = 0; i < 30_000_000; i++)
                w.Write(i == 0 ? "1" : ",0"); // 60 MB, 30 million numbers
            w.Write("]}");
        }
        // In a process of its own, so that its peak RSS is the collect's.
        var clock = Stopwatch.StartNew();
        var r = TestEnvironment.Run(
            "/usr/bin/time",
            ["-f", "peak %M KiB", "dotnet", TestEnvironment.CliDll, "sweep", "collect", dir]
        );
        long peakKiB = long.Parse(r.StdErr.Split('\n').Last(l => l.StartsWith("peak ")).Split(' ')[1]);
        output.WriteLine(
            $"collect of a 60 MB result.json: peak RSS {peakKiB / 1024} MiB, {clock.Elapsed.TotalSeconds:F1} s"
        );
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(
            "failed t0000 (lr=0.001, seed 1): result.json holds more than 2,000,000 values",
            r.StdErr + r.StdOut
        );
        Assert.True(peakKiB < 400_000, $"peak RSS {peakKiB / 1024} MiB"); // before: 6.4 GB and 81 s
    }

    /// <summary>A sweep folder of one optimizers trial (lr=0.001, seed 1) whose entry.json is written, as a trial
    /// writes it.</summary>
    static (string Dir, string Trial) OneTrialFolder()
    {
        string dir = TestEnvironment.NewTempDir();
        var plan = SweepPlan.Expand(
            "optimizers",
            new Dictionary<string, string[]> { ["lr"] = ["0.001"] },
            [1],
            ["--steps", "2"]
        );
        File.WriteAllText(Path.Combine(dir, "sweep.json"), plan.ToJson());
        string trial = SweepPlan.TrialDir(dir, plan.Trials[0]);
        Directory.CreateDirectory(trial);
        SweepPlan.WriteEntry(dir, plan, plan.Trials[0], SweepPlan.Hash(dir));
        return (dir, trial);
    }

    [Theory]
    [InlineData("lr=0.1,0.1")]
    [InlineData("lr=0.1,1e-1")]
    public void GridValuesThatMakeOneSettingTwice_AreRefused(string grid)
    {
        var r = TestEnvironment.RunInProcess(
            "sweep",
            "optimizers",
            "--grid",
            grid,
            "--seeds",
            "1-2",
            "--out",
            TestEnvironment.NewTempDir(),
            "--dry-run",
            "--",
            "--steps",
            "2"
        );
        TestEnvironment.OneLine(r, 2, "are the same setting"); // before: "4 of 4", one run counted twice
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void SweepThreadsBelowOne_AreRefused(string threads)
    {
        var r = TestEnvironment.RunInProcess(
            "sweep",
            "optimizers",
            "--grid",
            "lr=0.1",
            "--seeds",
            "1",
            "--threads",
            threads,
            "--out",
            TestEnvironment.NewTempDir(),
            "--dry-run",
            "--",
            "--steps",
            "2"
        );
        TestEnvironment.OneLine(r, 2, "--threads"); // before: silently 1
    }

    [Fact]
    public void SlurmThreads_AreTheNodesNotThisMachines()
    {
        var r = TestEnvironment.RunInProcess(
            "sweep",
            "optimizers",
            "--grid",
            "lr=0.1",
            "--seeds",
            "1",
            "--threads",
            "16",
            "--executor",
            "slurm",
            "--out",
            TestEnvironment.NewTempDir(),
            "--dry-run",
            "--",
            "--steps",
            "2"
        );
        Assert.Equal(0, r.ExitCode); // before: "at most 8 (4 × the 2 cores of this machine)"
    }
}
