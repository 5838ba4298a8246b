using System.Text.RegularExpressions;

namespace TorchLabs.Tests.Build;

/// <summary>
/// Every path or name a command prints goes through the one printing helper (Runtime/Printable: Path, Escape, Quote),
/// on every line, not only on error lines: read from the command line's sources, every interpolated value of a console
/// line that names a path, a folder, a file or an error text is wrapped in it. (A file named "b.png\nevil.png: plane
/// 99.9 %" printed raw fakes a prediction line.)
/// </summary>
public class PrintingTests
{
    /// <summary>Interpolated values that hold a path, a file or folder name, or a message from elsewhere.</summary>
    static readonly Regex PathLike = new(
        @"Path\.|Dir\b|Folder\b|\.File\b|\bfile\b|Script\b|\.Error\b|Template\b|figures\b"
    );

    [Fact]
    public void EveryPathOrNameACommandPrints_IsEscaped()
    {
        string cli = Path.Combine(TestEnvironment.RepoRoot, "src", "TorchLabs.Cli");
        var raw = Directory
            .EnumerateFiles(cli, "*.cs", SearchOption.AllDirectories)
            .Where(f =>
                !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
            )
            .SelectMany(f => Statements(File.ReadAllText(f)).Select(s => (File: Path.GetFileName(f), Statement: s)))
            .Where(s => s.Statement.Contains("Console.") && s.Statement.Contains("Write"))
            .SelectMany(s =>
                Holes(s.Statement)
                    .Where(h => PathLike.IsMatch(h) && !h.Contains("Printable."))
                    .Select(h => $"{s.File}: {{{h}}}")
            )
            .ToList();
        Assert.True(raw.Count == 0, "printed without Printable: " + string.Join("; ", raw));
    }

    [Fact]
    public void TheCheck_CatchesARawPath() =>
        Assert.Contains(Holes("Console.Error.WriteLine($\"data from {r.Folder}\");"), h =>
            PathLike.IsMatch(h) && !h.Contains("Printable.")
        );

    /// <summary>The source cut at semicolons (a statement may span lines).</summary>
    static IEnumerable<string> Statements(string source) => source.Split(';');

    /// <summary>The interpolation holes {…} of the statement's interpolated strings (one level of nested
    /// braces).</summary>
    static IEnumerable<string> Holes(string statement) =>
        Regex
            .Matches(statement, @"\$""(?:[^""\\]|\\.)*""")
            .SelectMany(m => Regex.Matches(m.Value, @"\{((?:[^{}]|\{[^{}]*\})+)\}").Select(h => h.Groups[1].Value));
}
