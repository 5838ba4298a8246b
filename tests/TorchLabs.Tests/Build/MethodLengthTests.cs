using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit.Abstractions;

namespace TorchLabs.Tests.Build;

/// <summary>
/// Methods short enough to read at once (docs/design.md): every method, constructor, accessor and local function of the
/// labs (src/TorchLabs/Labs) is under 60 lines, as CSharpier lays it out. The ten longest of src/ are printed.
/// </summary>
public class MethodLengthTests(ITestOutputHelper output)
{
    public const int MaxLabMethodLines = 59;

    /// <summary>Every member with a body in the C# files under <paramref name="folder"/>: file, name, lines.</summary>
    static IEnumerable<(string File, string Name, int Lines)> Methods(string folder)
    {
        string root = TestEnvironment.RepoRoot;
        foreach (
            string file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories)
        )
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                continue;
            var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(file));
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                string? name = node switch
                {
                    MethodDeclarationSyntax m => m.Identifier.Text,
                    ConstructorDeclarationSyntax c => c.Identifier.Text + " (constructor)",
                    LocalFunctionStatementSyntax l => l.Identifier.Text + " (local function)",
                    AccessorDeclarationSyntax a when a.Body is not null || a.ExpressionBody is not null =>
                        a.Parent?.Parent is PropertyDeclarationSyntax p
                            ? $"{p.Identifier.Text}.{a.Keyword.Text}"
                            : null,
                    _ => null,
                };
                if (name is null)
                    continue;
                var span = node.GetLocation().GetLineSpan();
                int lines = span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
                yield return (Path.GetRelativePath(root, file), name, lines);
            }
        }
    }

    [Fact]
    public void EveryLabMethod_IsUnder60Lines()
    {
        var methods = Methods(Path.Combine("src", "TorchLabs", "Labs")).ToList();
        Assert.NotEmpty(methods);
        var longest = Methods("src").OrderByDescending(m => m.Lines).Take(10);
        foreach (var m in longest)
            output.WriteLine($"{m.Lines, 4}  {m.File}  {m.Name}");
        var tooLong = methods
            .Where(m => m.Lines > MaxLabMethodLines)
            .Select(m => $"{m.File} {m.Name}: {m.Lines} lines");
        Assert.True(!tooLong.Any(), string.Join(Environment.NewLine, tooLong));
    }

    [Fact]
    public void TheCounterCountsAMethodFromSignatureToClosingBrace()
    {
        string dir = TestEnvironment.NewTempDir("method-length");
        File.WriteAllText(Path.Combine(dir, "A.cs"), "class A\n{\n    int F()\n    {\n        return 1;\n    }\n}\n");
        var m = Assert.Single(Methods(Path.GetRelativePath(TestEnvironment.RepoRoot, dir)));
        Assert.Equal(("F", 4), (m.Name, m.Lines));
    }
}
