using System.Text.Json;

namespace TorchLabs.Tests.Build;

/// <summary>
/// The cpu/cuda switch, tested by evaluating the project with MSBuild (the CUDA packages are not in the
/// registry here, so nothing is restored).
/// </summary>
public class BackendSwitchTests
{
    static string[] TorchPackages(params string[] extra)
    {
        string project = Path.Combine(TestEnvironment.RepoRoot, "src", "TorchLabs", "TorchLabs.csproj");
        var r = TestEnvironment.Run(
            "dotnet",
            ["msbuild", project, "-getItem:PackageReference", .. extra],
            TestEnvironment.RepoRoot
        );
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        return doc
            .RootElement.GetProperty("Items")
            .GetProperty("PackageReference")
            .EnumerateArray()
            .Select(i => i.GetProperty("Identity").GetString()!)
            .Where(n => n.StartsWith("TorchSharp-", StringComparison.Ordinal))
            .ToArray(); // the backend package, not TorchSharp.PyBridge
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Default_ReferencesTorchSharpCpu() => Assert.Equal(["TorchSharp-cpu"], TorchPackages());

    [Trait("Speed", "Slow")]
    [Fact]
    public void TorchBackendCuda_ReferencesCudaPackageForThisOs()
    {
        string expected = OperatingSystem.IsWindows() ? "TorchSharp-cuda-windows" : "TorchSharp-cuda-linux";
        Assert.Equal([expected], TorchPackages("-p:TorchBackend=cuda"));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void TorchBackendUnknown_FailsWithClearError()
    {
        string project = Path.Combine(TestEnvironment.RepoRoot, "src", "TorchLabs", "TorchLabs.csproj");
        var r = TestEnvironment.Run(
            "dotnet",
            ["msbuild", project, "-t:TorchLabsCheckBackend", "-p:TorchBackend=rocm", "-nologo"],
            TestEnvironment.RepoRoot
        );
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("expected cpu or cuda", r.StdOut);
    }

    static JsonElement Properties(string project, params string[] extra)
    {
        var r = TestEnvironment.Run(
            "dotnet",
            ["msbuild", Path.Combine(TestEnvironment.RepoRoot, "src", project), .. extra],
            TestEnvironment.RepoRoot
        );
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        return JsonDocument.Parse(r.StdOut).RootElement.GetProperty("Properties").Clone();
    }

    /// <summary>#46: a build holds this machine's native libraries only. The command (and every project that runs
    /// libtorch) builds for the SDK's own runtime identifier, framework-dependent, cpu or cuda; the GradCheck package
    /// stays runtime-independent.</summary>
    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda")]
    public void TheBuild_IsForThisMachinesRuntimeOnly(string backend)
    {
        string[] asked =
        [
            $"-p:TorchBackend={backend}",
            "-getProperty:RuntimeIdentifier",
            "-getProperty:NETCoreSdkRuntimeIdentifier",
            "-getProperty:SelfContained",
        ];
        var cli = Properties(Path.Combine("TorchLabs.Cli", "TorchLabs.Cli.csproj"), asked);
        Assert.Equal(
            cli.GetProperty("NETCoreSdkRuntimeIdentifier").GetString(),
            cli.GetProperty("RuntimeIdentifier").GetString()
        );
        Assert.Equal("false", cli.GetProperty("SelfContained").GetString());
        var package = Properties(Path.Combine("TorchLabs.GradCheck", "TorchLabs.GradCheck.csproj"), asked);
        Assert.Equal("", package.GetProperty("RuntimeIdentifier").GetString());
    }
}
