using System.Text.RegularExpressions;

namespace TorchLabs.Tests.Build;

/// <summary>Every repository path that README.md, the package README and docs/ mention exists (a glob matches at least
/// one file), so the docs cannot point at files that moved.</summary>
public class DocsPathTests
{
    static readonly Regex RepoPath = new(@"(?<![\w/.~-])(?:src|tests|scripts|docs|examples|build)/[\w./*+-]*[\w*]");

    /// <summary>A file of the library named from its own folder (Models/ModelSummary.cs): under
    /// src/TorchLabs/.</summary>
    static readonly Regex LibraryPath = new(
        @"(?<![\w/.~-])(?:Gradients|Runtime|Fast|Labs|Optimizers|Models|Data|Reporting|Reference|Functions|Sweeps|AllLabs|Benchmarks)/[\w./*-]*\.cs"
    );

    static IEnumerable<string> Docs()
    {
        string root = TestEnvironment.RepoRoot;
        return
        [
            Path.Combine(root, "README.md"),
            Path.Combine(root, "src", "TorchLabs.GradCheck", "README.md"),
            .. Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md"),
        ];
    }

    static bool Exists(string relative)
    {
        string root = TestEnvironment.RepoRoot;
        if (!relative.Contains('*'))
            return File.Exists(Path.Combine(root, relative)) || Directory.Exists(Path.Combine(root, relative));
        string dir = Path.Combine(root, Path.GetDirectoryName(relative)!);
        return Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir, Path.GetFileName(relative)).Any();
    }

    [Fact]
    public void EveryRepositoryPathTheDocsMention_Exists()
    {
        var missing = Docs()
            .SelectMany(doc =>
                Mentions(File.ReadAllText(doc)).Where(p => !Exists(p)).Select(p => $"{Path.GetFileName(doc)}: {p}")
            )
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0, "docs name paths that do not exist: " + string.Join("; ", missing));
    }

    /// <summary>The repository paths a text mentions: build outputs (bin/, the API reference's _site), a fuzzing run's
    /// findings and TorchSharp's own sources left out, a placeholder in capitals (NAME) read as any name.</summary>
    static IEnumerable<string> Mentions(string text) =>
        RepoPath
            .Matches(text)
            .Select(m => m.Value.TrimEnd('.'))
            .Concat(LibraryPath.Matches(text).Select(m => "src/TorchLabs/" + m.Value))
            .Where(p =>
                !p.Contains("...")
                && !p.Contains("/bin/")
                && !p.StartsWith("docs/api/_site", StringComparison.Ordinal)
                && !p.StartsWith("src/TorchSharp", StringComparison.Ordinal)
                && !p.StartsWith("tests/TorchLabs.Fuzz/findings", StringComparison.Ordinal)
            ) // made by a fuzzing run
            .Select(p => Regex.Replace(p, @"(?<=/)[A-Z]{3,}(?=/|$)", "*"));

    [Fact]
    public void TheCheck_SeesAMovedFile() => Assert.False(Exists("src/TorchLabs/Optimizers/FlatSgd.cs"));
}
