using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;
using static ArchUnitNET.Fluent.Slices.SliceRuleDefinition;

namespace TorchLabs.Tests.Build;

/// <summary>
/// The folders' layers (docs/design.md), enforced on the compiled assemblies by ArchUnitNET: each namespace depends
/// only on the layers below its own, never on a sibling of its layer or anything above; no cycles between the
/// namespaces; the pure C# reference uses no TorchSharp; the library never uses the command; the GradCheck package uses
/// nothing of TorchLabs.
/// </summary>
public class ArchitectureTests
{
    static readonly Architecture Architecture = new ArchLoader()
        .LoadAssemblies(
            typeof(TorchLabs.Models.CifarNet).Assembly,
            typeof(TorchLabs.Gradients.GradCheck).Assembly,
            typeof(TorchLabs.Cli.NativeAllocator).Assembly
        )
        .Build();

    /// <summary>The layers, bottom first. A namespace may use the namespaces of the layers below its own, and nothing
    /// else.</summary>
    public static readonly string[][] Layers =
    [
        ["Runtime"],
        ["Checkpoints"],
        ["Data", "Reference", "Functions"],
        ["Models"],
        ["Fast", "Optimizers", "Reporting"],
        ["Gradients"],
        ["Labs"],
        ["Sweeps", "AllLabs", "Benchmarks"],
        ["Cli"],
    ];

    static IObjectProvider<IType> Namespace(string name) =>
        Types()
            .That()
            .ResideInNamespaceOrBelow("TorchLabs." + name)
            .And()
            .ResideInAssemblyMatching(name == "Cli" ? "^torchlabs," : "^TorchLabs.Core,")
            .As($"TorchLabs.{name}");

    public static TheoryData<string> LayeredNamespaces() => new(Layers.SelectMany(l => l));

    [Theory]
    [MemberData(nameof(LayeredNamespaces))]
    public void Namespace_UsesOnlyTheLayersBelowIt(string name)
    {
        int level = Array.FindIndex(Layers, l => l.Contains(name));
        var notBelow = Layers.Skip(level).SelectMany(l => l).Where(n => n != name).ToArray();
        if (notBelow.Length == 0)
        {
            // The top layer may use everything below it; what is checked is that the rule sees it: its types are in the
            // assembly the architecture was read from (a renamed namespace would otherwise pass unchecked).
            Assert.NotEmpty(Namespace(name).GetObjects(Architecture));
            return;
        }
        var rule = Types().That().Are(Namespace(name)).Should().NotDependOnAny(Namespace(notBelow[0]));
        foreach (var other in notBelow.Skip(1))
            rule = rule.AndShould().NotDependOnAny(Namespace(other));
        rule.WithoutRequiringPositiveResults().Check(Architecture);
    }

    /// <summary>The command line's option names (--name), of every command and sub-command.</summary>
    static IEnumerable<string> Flags(System.CommandLine.Command c) =>
        c.Options.Select(o => o.Name).Concat(c.Subcommands.SelectMany(Flags));

    /// <summary>
    /// The library names settings (‹name›, <c>Setting.Of</c>) and never the command line's flags: no string literal in
    /// src/TorchLabs holds a `torchlabs` option (comments may; another program's flags, sbatch's, are not ours).
    /// </summary>
    [Fact]
    public void Library_HoldsNoCommandLineFlag()
    {
        var flags = Flags(TorchLabs.Cli.Cli.BuildRoot())
            .Where(f => f.StartsWith("--", StringComparison.Ordinal))
            .ToHashSet();
        Assert.Contains("--threads", flags);
        var literal = new System.Text.RegularExpressions.Regex("\"(?:[^\"\\\\]|\\\\.)*\"");
        var flag = new System.Text.RegularExpressions.Regex("(?<![\\w-])--[a-z][a-z0-9-]*");
        var found = new List<string>();
        foreach (
            string file in Directory
                .EnumerateFiles(
                    Path.Combine(TestEnvironment.RepoRoot, "src", "TorchLabs"),
                    "*.cs",
                    SearchOption.AllDirectories
                )
                .Where(f => !f.Contains("/obj/", StringComparison.Ordinal))
        )
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal))
                    continue;
                foreach (System.Text.RegularExpressions.Match s in literal.Matches(lines[i]))
                foreach (System.Text.RegularExpressions.Match f in flag.Matches(s.Value))
                    if (flags.Contains(f.Value))
                        found.Add($"{Path.GetRelativePath(TestEnvironment.RepoRoot, file)}:{i + 1}: {f.Value}");
            }
        }
        Assert.True(found.Count == 0, string.Join("\n", found));
    }

    [Fact]
    public void Namespaces_HaveNoCycles() =>
        Slices().Matching("TorchLabs.(*)..").Should().BeFreeOfCycles().Check(Architecture);

    [Fact]
    public void Reference_UsesNoTorchSharp() =>
        Types()
            .That()
            .Are(Namespace("Reference"))
            .Should()
            .NotDependOnAny(Types().That().ResideInNamespaceOrBelow("TorchSharp"))
            .Check(Architecture);

    [Fact]
    public void GradCheckPackage_UsesNothingOfTorchLabs() =>
        Types()
            .That()
            .ResideInAssemblyMatching("^TorchLabs.GradCheck,")
            .Should()
            .NotDependOnAny(
                Types().That().ResideInAssemblyMatching("^TorchLabs.Core,").Or().ResideInAssemblyMatching("^torchlabs,")
            )
            .Check(Architecture);
}
