namespace TorchLabs.Tests.Build;

/// <summary>The repository's C# is at most 120 characters a line (.editorconfig's max_line_length; docs/design.md),
/// except that a message string stays whole: a line may be longer by one string literal, the rest of it within the
/// limit.</summary>
public class LineWidthTests
{
    public const int MaxLineLength = 120;

    [Fact]
    public void EveryCSharpLine_IsAtMost120Characters()
    {
        string root = TestEnvironment.RepoRoot;
        var wide = new[] { "src", "tests", "examples", "scripts", "build" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f =>
                !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
            )
            .SelectMany(f =>
                File.ReadLines(f)
                    .Select((line, i) => (File: Path.GetRelativePath(root, f), Line: i + 1, line.Length, Text: line))
            )
            .Where(l => l.Length > MaxLineLength && WithoutLongestString(l.Text).Length > MaxLineLength)
            .Select(l => $"{l.File}:{l.Line} ({l.Length} characters)")
            .ToList();
        Assert.True(wide.Count == 0, string.Join(Environment.NewLine, wide));
    }

    /// <summary>The line with its longest string literal ("…" or $"…", escapes honoured) taken out.</summary>
    static string WithoutLongestString(string line)
    {
        var matches = System.Text.RegularExpressions.Regex.Matches(line, "\\$?\"(?:[^\"\\\\]|\\\\.)*\"");
        var longest = matches.OrderByDescending(m => m.Length).FirstOrDefault();
        return longest is null ? line : line.Remove(longest.Index, longest.Length);
    }

    [Fact]
    public void AMessageStringMayRunPastTheLimit_ButNothingElse()
    {
        string message = "        throw new X($\"" + new string('a', 150) + "\");";
        Assert.True(WithoutLongestString(message).Length <= MaxLineLength);
        Assert.True(WithoutLongestString(new string(' ', 130) + "int x;").Length > MaxLineLength);
    }
}
