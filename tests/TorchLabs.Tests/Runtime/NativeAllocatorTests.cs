using System.Text.Json;
using TorchLabs.Cli;
using TorchLabs.Runtime;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Runtime;

/// <summary>
/// The C allocator under libtorch: the choice from TORCHLABS_ALLOCATOR, the re-execution that preloads it (seen from
/// inside the process), clear errors, and the same numbers whichever allocator runs. CI installs libtcmalloc-minimal4,
/// so the default there is tcmalloc.
/// </summary>
public class NativeAllocatorTests
{
    static Func<string, bool> Installed(params string[] files) =>
        path => files.Any(f => path.EndsWith("/" + f, StringComparison.Ordinal));

    [Fact]
    public void Choose_AutoTakesTheFirstInstalled_SystemTakesNone()
    {
        Assert.Equal(
            "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
            NativeAllocator.Choose(null, Installed("libjemalloc.so.2", "libtcmalloc_minimal.so.4"))
        );
        Assert.EndsWith(
            "/libjemalloc.so.2",
            NativeAllocator.Choose("auto", Installed("libjemalloc.so.2", "libmimalloc.so.2"))
        );
        Assert.Null(NativeAllocator.Choose("auto", Installed()));
        Assert.Null(NativeAllocator.Choose("system", Installed("libtcmalloc_minimal.so.4")));
        Assert.EndsWith(
            "/libmimalloc.so.2",
            NativeAllocator.Choose("mimalloc", Installed("libtcmalloc_minimal.so.4", "libmimalloc.so.2"))
        );
    }

    [Theory]
    [InlineData(
        "jemalloc",
        "TORCHLABS_ALLOCATOR=jemalloc: libjemalloc.so.2 is not installed (apt-get install libjemalloc2), or use auto or system"
    )]
    [InlineData(
        "glibc",
        "TORCHLABS_ALLOCATOR=glibc: unknown allocator; expected auto, system, tcmalloc, jemalloc, mimalloc or the path of a shared "
            + "library"
    )]
    [InlineData(
        "/opt/none.so",
        "TORCHLABS_ALLOCATOR=/opt/none.so: no such file; expected auto, system, tcmalloc, jemalloc, mimalloc or the path of a shared "
            + "library"
    )]
    public void Choose_BadSetting_OneLineNamingIt(string setting, string message)
    {
        var e = Assert.Throws<UsageException>(() =>
            NativeAllocator.Choose(setting, Installed("libtcmalloc_minimal.so.4"))
        );
        Assert.Equal(message, e.Message);
    }

    static string Allocator(TestEnvironment.ProcessResult r)
    {
        Assert.True(r.ExitCode == 0, r.StdErr);
        return JsonDocument.Parse(r.StdOut).RootElement.GetProperty("allocator").GetString()!;
    }

    static bool TcmallocInstalled =>
        NativeAllocator.Choose("auto", File.Exists) is { } p
        && p.EndsWith("libtcmalloc_minimal.so.4", StringComparison.Ordinal);

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_ReexecutesWithTheAllocator_UnlessToldSystem()
    {
        Assert.True(
            TcmallocInstalled,
            "libtcmalloc-minimal4 is not installed (apt-get install libtcmalloc-minimal4; .ci/run does)"
        );
        Assert.Equal("tcmalloc", Allocator(TestEnvironment.RunCli("info", "--format", "json")));
        Assert.Equal(
            "system",
            Allocator(
                TestEnvironment.RunCliWith(
                    new Dictionary<string, string> { ["TORCHLABS_ALLOCATOR"] = "system" },
                    "info",
                    "--format",
                    "json"
                )
            )
        );
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_BadAllocatorSetting_ExitTwo_OneLine()
    {
        var r = TestEnvironment.RunCliWith(
            new Dictionary<string, string> { ["TORCHLABS_ALLOCATOR"] = "fastest" },
            "info"
        );
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.Equal(
            "torchlabs: TORCHLABS_ALLOCATOR=fastest: unknown allocator; expected auto, system, tcmalloc, jemalloc, mimalloc or "
                + "the path of a shared library",
            r.StdErr.Trim()
        );
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_BadAllocatorSetting_IsRefused_EvenUnderTheCallersOwnPreload()
    {
        string libm = new[]
        {
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/usr/lib/x86_64-linux-gnu/libm.so.6",
            "/lib64/libm.so.6",
        }.First(File.Exists);
        var r = TestEnvironment.RunCliWith(
            new Dictionary<string, string> { ["LD_PRELOAD"] = libm, ["TORCHLABS_ALLOCATOR"] = "tcmaloc" },
            "info"
        );
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("torchlabs: TORCHLABS_ALLOCATOR=tcmaloc: unknown allocator", r.StdErr.Trim());
        var ok = TestEnvironment.RunCliWith(
            new Dictionary<string, string> { ["LD_PRELOAD"] = libm },
            "info",
            "--format",
            "json"
        );
        Assert.Equal(0, ok.ExitCode); // the caller's preload is kept: no re-execution with ours
        Assert.Equal("system", JsonDocument.Parse(ok.StdOut).RootElement.GetProperty("allocator").GetString());
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cifar10_SameNumbers_WithEitherAllocator()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, 40, 20, seed: 13);
        string Run(string allocator)
        {
            var r = TestEnvironment.RunCliWith(
                new Dictionary<string, string> { ["TORCHLABS_ALLOCATOR"] = allocator },
                "cifar10",
                "--data",
                data,
                "--epochs",
                "2",
                "--out",
                TestEnvironment.NewTempDir(),
                "--threads",
                "1",
                "--format",
                "json"
            );
            Assert.True(r.ExitCode == 0, r.StdErr);
            var json = JsonDocument.Parse(r.StdOut).RootElement;
            return json.GetProperty("lossCurve").GetRawText()
                + json.GetProperty("logLoss").GetRawText()
                + json.GetProperty("confusion").GetRawText();
        }
        Assert.Equal(Run("system"), Run("auto"));
    }
}
