using System.IO.Compression;
using System.Xml.Linq;
using TorchLabs.Build;

namespace TorchLabs.Tests.Build;

/// <summary>
/// The TorchLabs.GradCheck package as a user gets it: `dotnet pack`, then a consumer project outside this repository
/// (so no Directory.Build.targets applies) restores it from the local .nupkg, not a project reference, with
/// TorchSharp-cpu, builds (the package's buildTransitive targets patch libLibTorchSharp.so where the system libstdc++
/// lacks GLIBCXX_3.4.32) and runs one passing and one failing check.
/// </summary>
[Trait("Speed", "Slow")]
public class GradCheckPackageTests
{
    const string Consumer = """
        using TorchLabs.Gradients;
        using static TorchSharp.torch;
        using static TorchSharp.torch.autograd;

        var x = randn([4], ScalarType.Float64, generator: new Generator(1)).requires_grad_(true);
        var good = GradCheck.Check(v => [v[0].sin()], [x]);
        var bad = GradCheck.Check(v => [SinTwice.apply(v[0])], [x]);
        Console.WriteLine($"good: {good.Pass}");
        Console.WriteLine($"bad: {bad.Pass}");
        Console.WriteLine(bad.Failures[0].Split('\n')[0]);
        return good.Pass && !bad.Pass ? 0 : 1;

        sealed class SinTwice : SingleTensorFunction<SinTwice>
        {
            public override string Name => nameof(SinTwice);
            public override Tensor forward(AutogradContext ctx, params object[] vars)
            {
                var x = (Tensor)vars[0];
                ctx.save_for_backward([x]);
                return x.sin();
            }
            public override List<Tensor> backward(AutogradContext ctx, Tensor g) =>
                [2 * g * ctx.get_saved_variables()[0].cos()];
        }
        """;

    [Fact]
    public void Package_RestoresFromALocalNupkg_AndRunsChecks()
    {
        string root = TestEnvironment.NewTempDir("torchlabs-package");
        string feed = Path.Combine(root, "feed"),
            app = Path.Combine(root, "consumer");
        // Packed from a copy of the project and the repository files its build reads: other tests may build the project
        // itself at the same time, and its bin/ and obj/ must not end up in the package.
        string copy = Path.Combine(root, "repo");
        foreach (
            string file in new[]
            {
                "Directory.Build.props",
                "Directory.Build.targets",
                "Directory.Packages.props",
                "global.json",
                "nuget.config",
                Path.Combine("build", "LibTorchSharpPatcher.cs"),
            }
        )
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, file))!);
            File.Copy(Path.Combine(TestEnvironment.RepoRoot, file), Path.Combine(copy, file));
        }
        string project = Path.Combine(TestEnvironment.RepoRoot, "src", "TorchLabs.GradCheck");
        foreach (string file in Directory.GetFiles(project, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(project, file);
            if (relative.StartsWith("bin") || relative.StartsWith("obj"))
                continue;
            string target = Path.Combine(copy, "src", "TorchLabs.GradCheck", relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        // A git repository with a GitHub remote, as a clone of the project is: SourceLink maps the sources to that
        // commit.
        const string remote = "https://github.com/torchlabs/torchlabs";
        foreach (
            string[] git in new string[][]
            {
                ["init", "-q"],
                ["add", "-A"],
                ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                ["remote", "add", "origin", remote],
            }
        )
            Assert.Equal(0, TestEnvironment.Run("git", git, copy).ExitCode);
        string commit = TestEnvironment.Run("git", ["rev-parse", "HEAD"], copy).StdOut.Trim();
        var pack = TestEnvironment.Run(
            "dotnet",
            ["pack", Path.Combine(copy, "src", "TorchLabs.GradCheck"), "-c", "Release", "-o", feed],
            timeoutMs: 600_000
        );
        Assert.True(pack.ExitCode == 0, pack.StdOut + pack.StdErr);
        // the .snupkg does not match
        string nupkg = Assert.Single(Directory.GetFiles(feed, "TorchLabs.GradCheck.*.nupkg"));

        // The symbols package: the portable PDB, whose source link maps the sources to the commit on GitHub.
        using (var symbols = ZipFile.OpenRead(Path.ChangeExtension(nupkg, ".snupkg")))
        {
            var pdb = symbols.Entries.Single(e => e.FullName == "lib/net10.0/TorchLabs.GradCheck.pdb");
            using var stream = new MemoryStream();
            using (var s = pdb.Open())
                s.CopyTo(stream);
            string text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
            Assert.Contains($"https://raw.githubusercontent.com/torchlabs/torchlabs/{commit}/", text);
        }

        // What the package holds: the library, its XML docs, the README, the native step; and it depends on TorchSharp
        // alone.
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("lib/net10.0/TorchLabs.GradCheck.dll", entries);
            Assert.Contains("lib/net10.0/TorchLabs.GradCheck.xml", entries);
            Assert.Contains("README.md", entries);
            Assert.Contains("buildTransitive/TorchLabs.GradCheck.targets", entries);
            Assert.Contains("buildTransitive/LibTorchSharpPatcher.cs", entries);
            using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).Open();
            var document = XDocument.Load(nuspec);
            var dependencies = document
                .Descendants()
                .Where(e => e.Name.LocalName == "dependency")
                .Select(e => e.Attribute("id")!.Value)
                .Distinct();
            Assert.Equal(["TorchSharp"], dependencies); // Source Link is the SDK's, not a dependency
            string notes = document.Descendants().Single(e => e.Name.LocalName == "releaseNotes").Value;
            // every version's changes
            Assert.All(new[] { "0.4.0:", "0.3.0:", "0.2.0:" }, v => Assert.Contains(v, notes));
            var repository = document.Descendants().Single(e => e.Name.LocalName == "repository");
            Assert.Equal((remote, commit), (repository.Attribute("url")!.Value, repository.Attribute("commit")!.Value));
            Assert.Equal(remote, document.Descendants().Single(e => e.Name.LocalName == "projectUrl").Value);
        }

        Directory.CreateDirectory(app);
        string version = Path.GetFileNameWithoutExtension(nupkg)["TorchLabs.GradCheck.".Length..];
        File.WriteAllText(
            Path.Combine(app, "Consumer.csproj"),
            $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="TorchLabs.GradCheck" Version="{version}" />
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
              </ItemGroup>
            </Project>
            """
        );
        File.WriteAllText(Path.Combine(app, "Program.cs"), Consumer);
        // The local feed beside the machine's own sources; packages into a folder of this test, the shared cache as a
        // fallback (so libtorch is not fetched again, and the GradCheck package just packed is the one restored).
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(
            Path.Combine(app, "nuget.config"),
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><add key="local" value="{feed}" /></packageSources>
              <fallbackPackageFolders><add key="shared" value="{cache}" /></fallbackPackageFolders>
              <config><add key="globalPackagesFolder" value="{Path.Combine(root, "packages")}" /></config>
            </configuration>
            """
        );
        var env = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(root, "packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        var run = TestEnvironment.Run("dotnet", ["run", "-c", "Release"], app, timeoutMs: 600_000, environment: env);
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        Assert.Contains("good: True", run.StdOut);
        Assert.Contains("bad: False", run.StdOut);
        Assert.Contains("Jacobian mismatch for output 0 with respect to input 0,", run.StdOut);
        Assert.True(
            Directory.Exists(Path.Combine(root, "packages", "torchlabs.gradcheck")),
            "the package came from the local feed"
        );

        // The consumer's own copy of libLibTorchSharp.so: weakened by the package's targets where the system needs it.
        string lib = Directory
            .GetFiles(Path.Combine(app, "bin"), "libLibTorchSharp.so", SearchOption.AllDirectories)
            .First();
        string? libstdcxx = ElfVersionWeakener.FindSystemLibStdCxx();
        if (libstdcxx is not null && !ElfVersionWeakener.FileContainsString(libstdcxx, "GLIBCXX_3.4.32"))
            Assert.Equal(
                ElfVersionWeakener.VerFlgWeak,
                ElfVersionWeakener.Inspect(lib, "GLIBCXX_3.4.32").Flags & ElfVersionWeakener.VerFlgWeak
            );
        Directory.Delete(root, recursive: true);
    }
}
