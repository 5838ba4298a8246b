using System.Text.Json;
using TorchLabs.AllLabs;

namespace TorchLabs.Tests.Cli;

/// <summary>The built `torchlabs` command, run as a separate process.</summary>
public class CliTests
{
    [Trait("Speed", "Slow")]
    [Fact]
    public void InfoJson_PrintsExactlyItsKeys()
    {
        var r = TestEnvironment.RunInProcess("info", "--format", "json", "--threads", "1");
        using var doc = TestEnvironment.Json(r);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(
            ["torchSharp", "libtorch", "backend", "cuda", "threads", "cores", "threadRule", "allocator"],
            keys
        );
        Assert.Equal("2.10.0", doc.RootElement.GetProperty("libtorch").GetString());
        Assert.Equal("cpu", doc.RootElement.GetProperty("backend").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("threads").GetInt32());
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void UnknownCommand_ExitsTwoWithOneLine()
    {
        var r = TestEnvironment.RunInProcess("nosuchlab");
        Assert.Equal(2, r.ExitCode);
        string[] lines = r.StdErr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains("nosuchlab", lines[0]);
        Assert.Equal("", r.StdOut);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void UnknownOption_ExitsTwoWithOneLine()
    {
        var r = TestEnvironment.RunInProcess("info", "--no-such-option");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("--no-such-option", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void BadFormat_ExitsTwo()
    {
        var r = TestEnvironment.RunInProcess("info", "--format", "xml");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("xml", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void DeviceCudaOnCpuBuild_ExitsTwoSayingHowToGetCuda()
    {
        Skip.If(TorchSharp.torch.cuda.is_available(), "a CUDA machine has CUDA: nothing to reject");
        var r = TestEnvironment.RunInProcess("info", "--device", "cuda");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("-p:TorchBackend=cuda", r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Help_ListsEveryLabWithOneLine()
    {
        var r = TestEnvironment.RunInProcess("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var lab in LabRegistry.All.Where(l => l.Id != "info"))
            Assert.Matches($@"(?m)^\s+{lab.Id}\s+\S", r.StdOut);
        Assert.Matches(@"(?m)^\s+all\s+\S", r.StdOut);
        Assert.Matches(@"(?m)^\s+info\s+\S", r.StdOut);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void All_WritesHtmlAndMarkdownWithExistingFigures()
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunInProcess("all", "--out", dir, "--threads", "1", "--only", "info");
        Assert.True(r.ExitCode == 0, r.StdErr);
        string html = File.ReadAllText(Path.Combine(dir, "index.html"));
        string md = File.ReadAllText(Path.Combine(dir, "README.md"));
        Assert.Contains("<section id=\"info\"", html);
        Assert.Contains("## Runtime and machine", md);
        var images = System
            .Text.RegularExpressions.Regex.Matches(html, "<img src=\"([^\"]+)\"")
            .Select(m => m.Groups[1].Value)
            .ToList();
        Assert.NotEmpty(images);
        Assert.All(images, src => Assert.True(File.Exists(Path.Combine(dir, src)), src));
        Assert.Empty(Directory.GetFiles(dir, ".*", SearchOption.AllDirectories)); // no temporaries left
        Assert.Equal("", r.StdOut); // progress and logs go to stderr
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void All_UnknownOnlyLab_ExitsTwo()
    {
        var r = TestEnvironment.RunInProcess("all", "--out", TestEnvironment.NewTempDir(), "--only", "nosuchlab");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("nosuchlab", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Threads_DefaultFollowsTheRule_ZeroMeansEveryCore_TooManyIsBadInput()
    {
        using var byDefault = JsonDocument.Parse(TestEnvironment.RunCli("info", "--format", "json").StdOut);
        Assert.Equal(1, byDefault.RootElement.GetProperty("threads").GetInt32());
        Assert.Contains("batches below 32", byDefault.RootElement.GetProperty("threadRule").GetString());
        using var all = JsonDocument.Parse(TestEnvironment.RunCli("info", "--format", "json", "--threads", "0").StdOut);
        Assert.Equal(Environment.ProcessorCount, all.RootElement.GetProperty("threads").GetInt32());
        var bad = TestEnvironment.RunCli("info", "--threads", "100000", "--format", "json");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("", bad.StdOut);
        Assert.Equal(
            $"torchlabs: --threads 100000: expected at most {4 * Environment.ProcessorCount} (4 × the "
                + $"{Environment.ProcessorCount} cores of this machine)",
            bad.StdErr.Trim()
        );
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("4", 1)]
    [InlineData("64", -1)]
    public void Cifar10_DefaultThreads_ChosenByBatchSize(string batch, int expected)
    {
        string root = TestEnvironment.NewTempDir();
        Data.SyntheticCifar.WriteFolder(root, 40, 20, seed: 3);
        var r = TestEnvironment.RunCli(
            "cifar10",
            "--data",
            root,
            "--out",
            Path.Combine(root, "out"),
            "--epochs",
            "1",
            "--batch-size",
            batch,
            "--format",
            "json"
        );
        using var doc = TestEnvironment.Json(r);
        Assert.Equal(
            expected == -1 ? Environment.ProcessorCount : expected,
            doc.RootElement.GetProperty("threads").GetInt32()
        );
    }
}
