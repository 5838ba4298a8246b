namespace TorchLabs.Tests.Build;

/// <summary>The repository's C# is at most 140 characters a line (.editorconfig's max_line_length; docs/design.md).</summary>
public class LineWidthTests
{
    public const int MaxLineLength = 140;

    [Fact]
    public void EveryCSharpLine_IsAtMost140Characters()
    {
        string root = TestEnvironment.RepoRoot;
        var wide = new[] { "src", "tests", "examples", "scripts", "build" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(root, f), Line: i + 1, line.Length)))
            .Where(l => l.Length > MaxLineLength)
            .Select(l => $"{l.File}:{l.Line} ({l.Length} characters)")
            .ToList();
        Assert.True(wide.Count == 0, string.Join(Environment.NewLine, wide));
    }
}
