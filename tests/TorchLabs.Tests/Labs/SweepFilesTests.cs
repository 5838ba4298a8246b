using TorchLabs.Runtime;
using TorchLabs.Sweeps;

namespace TorchLabs.Tests.Labs;

/// <summary>
/// A sweep's files as untrusted input (docs/reliability.md, round four): sweep.json checked field by field with trial
/// ids of one form, result.json and stderr.log read only as regular files of bounded size, one bad trial listed without
/// blocking the collect of the others, statistics that overflow kept, and the plan capped before it is built.
/// </summary>
public class SweepFilesTests
{
    static readonly string[] Extra = ["--steps", "2"];

    /// <summary>A sweep folder with a plan of two optimizers trials (seeds 1 and 2), each given the result JSON
    /// text.</summary>
    static (string Dir, SweepPlan Plan) Folder(params string?[] results)
    {
        string dir = TestEnvironment.NewTempDir();
        var plan = SweepPlan.Expand(
            "optimizers",
            new Dictionary<string, string[]> { ["lr"] = ["0.1"] },
            [.. Enumerable.Range(1, results.Length).Select(i => (long)i)],
            Extra
        );
        File.WriteAllText(Path.Combine(dir, "sweep.json"), plan.ToJson());
        for (int i = 0; i < results.Length; i++)
        {
            string trial = SweepPlan.TrialDir(dir, plan.Trials[i]);
            Directory.CreateDirectory(trial);
            if (results[i] is string r)
                File.WriteAllText(Path.Combine(trial, "result.json"), r);
            if (results[i] is not null)
                SweepPlan.WriteEntry(dir, plan, plan.Trials[i], SweepPlan.Hash(dir)); // as a trial writes it
            File.WriteAllText(Path.Combine(trial, "exit"), results[i] is null ? "1" : "0");
        }
        return (dir, plan);
    }

    static void EditPlan(string dir, Action<System.Text.Json.Nodes.JsonNode> edit)
    {
        string path = Path.Combine(dir, "sweep.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    [Theory]
    [InlineData("id", "\"../../../victim\"", "expected 0 and t0000")]
    [InlineData("id", "\"/etc\"", "expected 0 and t0000")]
    [InlineData("id", "null", "trial 0 is incomplete")]
    [InlineData("settings", "null", "trial 0 is incomplete")]
    [InlineData("index", "7", "expected 0 and t0000")]
    public void Plan_WithAHostileTrial_IsRefusedNamingTheFile(string field, string json, string expected)
    {
        var (dir, _) = Folder("{\"loss\":[1.0,0.5]}");
        EditPlan(dir, n => n["trials"]![0]![field] = System.Text.Json.Nodes.JsonNode.Parse(json));
        var e = Assert.Throws<UsageException>(() => SweepPlan.Read(Path.Combine(dir, "sweep.json")));
        Assert.Contains("sweep.json: not a sweep plan", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("lab", "null")]
    [InlineData("lab", "\"predict\"")]
    [InlineData("trials", "null")]
    [InlineData("seeds", "null")]
    public void Plan_WithAMissingOrChangedField_IsRefused(string field, string json)
    {
        var (dir, _) = Folder("{\"loss\":[1.0,0.5]}");
        EditPlan(dir, n => n[field] = System.Text.Json.Nodes.JsonNode.Parse(json));
        var e = Assert.Throws<UsageException>(() => SweepCollect.Collect(dir));
        Assert.Contains("not a sweep plan", e.Message);
    }

    [Fact]
    public void Plan_ThatIsADirectory_OrAFifo_IsRefusedWithoutWaiting()
    {
        string dir = TestEnvironment.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "sweep.json"));
        Assert.Contains(
            "a directory",
            Assert.Throws<UsageException>(() => SweepPlan.Read(Path.Combine(dir, "sweep.json"))).Message
        );
        string fifo = Path.Combine(TestEnvironment.NewTempDir(), "sweep.json");
        Assert.Equal(0, TestEnvironment.Run("mkfifo", [fifo]).ExitCode);
        Assert.Contains("not a regular file", Assert.Throws<UsageException>(() => SweepPlan.Read(fifo)).Message);
    }

    [Fact]
    public void Collect_ListsABadResultAsUnreadable_AndCollectsTheOthers()
    {
        var (dir, _) = Folder(
            "{\"loss\":[1.0,0.5]}",
            "{}",
            "{\"loss\":[]}",
            "{\"loss\":[\"a\",\"b\"]}",
            "{\"race\":[{\"optimizer\":\"gd\"}]}",
            "{\"loss\":[2.0,0.25]}"
        );
        var c = SweepCollect.Collect(dir);
        var final = Assert.Single(c.Stats, s => s.Number == "final f");
        Assert.Equal(2, final.Finished);
        Assert.Equal(0.375, final.Mean);
        Assert.Equal(4, c.Failed.Count);
        Assert.All(c.Failed, f => Assert.Contains("unreadable result.json", f.Error));
    }

    [Fact]
    public void Collect_AResultFifoOrOversizedFile_IsAFailedTrial_NotAHang()
    {
        var (dir, plan) = Folder("{\"loss\":[1.0,0.5]}", "{\"loss\":[1.0,0.5]}");
        string second = Path.Combine(SweepPlan.TrialDir(dir, plan.Trials[1]), "result.json");
        File.Delete(second);
        Assert.Equal(0, TestEnvironment.Run("mkfifo", [second]).ExitCode);
        string stderr = Path.Combine(SweepPlan.TrialDir(dir, plan.Trials[0]), "stderr.log");
        Assert.Equal(0, TestEnvironment.Run("mkfifo", [stderr]).ExitCode);
        var c = SweepCollect.Collect(dir);
        Assert.Equal("result.json is not a regular file", Assert.Single(c.Failed).Error);
        Assert.Equal(1, Assert.Single(c.Stats, s => s.Number == "final f").Finished);
        File.Delete(second);
        using (var f = File.Create(second))
            f.SetLength(SweepPlan.MaxResultBytes + 1); // sparse: no disk used
        Assert.Contains("larger than", Assert.Single(SweepCollect.Collect(dir).Failed).Error);
    }

    [Fact]
    public void Collect_OverflowingStatistics_AreKept_AndTheReportSaysSo()
    {
        var (dir, _) = Folder("{\"loss\":[1.0,1e308]}", "{\"loss\":[1.0,-1e308]}");
        var c = SweepCollect.Collect(dir);
        var final = Assert.Single(c.Stats, s => s.Number == "final f");
        Assert.True(double.IsInfinity(final.Std) || double.IsNaN(final.Std), $"std {final.Std}");
        var section = SweepCollect.Section(c, dir);
        Assert.Contains(section.Blocks.OfType<TorchLabs.Reporting.Paragraph>(), p =>
            p.Text.Contains("not a finite number")
        );
    }

    [Fact]
    public void Plan_OfMoreThanTheCap_IsRefusedBeforeItIsBuilt_SayingHowMany()
    {
        var grid = new Dictionary<string, string[]>
        {
            ["lr"] = [.. Enumerable.Range(1, 10).Select(i => $"0.{i}")],
            ["momentum"] = [.. Enumerable.Range(1, 10).Select(i => $"0.{i}")],
            ["steps"] = [.. Enumerable.Range(1, 10).Select(i => $"{i}")],
        };
        var e = Assert.Throws<UsageException>(() =>
            SweepPlan.Expand("optimizers", grid, [.. Enumerable.Range(0, 1000).Select(i => (long)i)], [])
        );
        Assert.Contains("1,000,000 trials; at most 10,000", e.Message);
    }
}

/// <summary>The values a sweep writes into its sbatch script: Slurm's formats, nothing that adds a line, paths read
/// literally.</summary>
public class SlurmScriptTests
{
    [Theory]
    [InlineData("01:00:00\ntouch PWNED", "4G", null, null, "--slurm-time")]
    [InlineData("01:00:00\rtouch PWNED", "4G", null, null, "--slurm-time")]
    [InlineData("banana", "4G", null, null, "--slurm-time")]
    [InlineData("01:00:00", "4G\ntouch PWNED", null, null, "--slurm-mem")]
    [InlineData("01:00:00", "lots", null, null, "--slurm-mem")]
    [InlineData("01:00:00", "4G", "gpu\ntouch PWNED", null, "--slurm-partition")]
    [InlineData("01:00:00", "4G", null, "gpu:1\ntouch PWNED", "--slurm-gres")]
    public void Check_RefusesWhatIsNotSlurmsFormat_NamingTheOption_Escaped(
        string time,
        string mem,
        string? partition,
        string? gres,
        string option
    )
    {
        var e = Assert.Throws<UsageException>(() => SlurmScript.Check(time, mem, partition, gres, "/tmp/sweep"));
        Assert.StartsWith(option + " ", TestEnvironment.AsShown(e));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("30:15")]
    [InlineData("01:00:00")]
    [InlineData("2-12")]
    [InlineData("2-12:30")]
    [InlineData("2-12:30:00")]
    [InlineData("UNLIMITED")]
    public void Check_TakesEveryFormOfSlurmsTime(string time) =>
        SlurmScript.Check(time, "16000M", "gpu,cpu", "gpu:a100:2,tmpdisk:10", "/tmp/a sweep/50%");

    [Fact]
    public void Check_RefusesAFolderWithANewline()
    {
        var e = Assert.Throws<UsageException>(() => SlurmScript.Check("10", "4G", null, null, "/tmp/a\nb"));
        Assert.StartsWith("--out ", TestEnvironment.AsShown(e));
    }

    [Fact]
    public void FilenameOption_IsQuoted_WithPercentDoubled_AndThePatternKept() =>
        Assert.Equal(
            "\"/tmp/a sweep/50%%/trials/slurm-%A_%a.out\"",
            SlurmScript.FilenameOption("/tmp/a sweep/50%/trials", "slurm-%A_%a.out")
        );
}

/// <summary>Grid values with commas inside (--start X0,X1), written with the escape.</summary>
public class GridValuesTests
{
    [Theory]
    [InlineData("0.1,0.2", new[] { "0.1", "0.2" })]
    [InlineData(@"1\,2,-3\,4", new[] { "1,2", "-3,4" })]
    [InlineData(@"a\\,b", new[] { @"a\", "b" })]
    [InlineData(@"x\y", new[] { @"x\y" })]
    [InlineData(" 1 , 2 ", new[] { "1", "2" })]
    public void SplitGridValues_SplitsAtUnescapedCommas(string text, string[] expected) =>
        Assert.Equal(expected, SweepPlan.SplitGridValues(text));
}
