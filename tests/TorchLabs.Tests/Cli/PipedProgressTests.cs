using System.Text.RegularExpressions;

namespace TorchLabs.Tests.Cli;

/// <summary>#29: `torchlabs all 2> log` gives a log, not snapshots of redrawn progress bars.</summary>
public class PipedProgressTests
{
    [Trait("Speed", "Slow")]
    [Fact]
    public void All_WithStderrRedirected_WritesPlainLines_NoneRepeated()
    {
        string outDir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunCli(
            "all",
            "--out",
            outDir,
            "--threads",
            "1",
            "--only",
            "info",
            "gradcheck",
            "histograms",
            "errata"
        );
        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] lines = r.StdErr.TrimEnd().Split('\n');
        // no escape sequences, no carriage returns
        Assert.DoesNotContain(lines, l => l.Any(c => char.IsControl(c) && c != '\r'));
        // Without the elapsed time, every line is said once: no lab's line printed again with the whole list.
        var said = lines.Select(l => Regex.Replace(l, @"^\[\d\d:\d\d:\d\d\] ", "")).ToList();
        Assert.Equal(said.Count, said.Distinct().Count());
        foreach (string lab in new[] { "info", "gradcheck", "histograms", "errata" })
        {
            Assert.Contains($"{lab}: started", said);
            Assert.Single(said, l => Regex.IsMatch(l, $@"^{lab}: ran in \d+\.\d s$"));
        }
        Assert.All(lines.Where(l => !l.StartsWith("report written", StringComparison.Ordinal)), l =>
            Assert.Matches(@"^\[\d\d:\d\d:\d\d\] ", l)
        );
    }
}
