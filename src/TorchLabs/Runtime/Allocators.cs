namespace TorchLabs.Runtime;

/// <summary>
/// The thread-caching C allocators libtorch may run on (tcmalloc, jemalloc, mimalloc), and which one this process has:
/// what `info` and the benchmarks report. Choosing one and re-executing the program with it preloaded is the command's
/// business (TorchLabs.Cli's NativeAllocator).
/// </summary>
public static class Allocators
{
    /// <summary>Set in the re-executed process so that it never re-executes again.</summary>
    public const string AppliedVariable = "TORCHLABS_ALLOCATOR_APPLIED";

    /// <summary>The known allocators, fastest first on this project's batch-4 step, with their Debian package and
    /// library file.</summary>
    public static readonly (string Name, string Package, string File)[] Known =
    [
        ("tcmalloc", "libtcmalloc-minimal4", "libtcmalloc_minimal.so.4"),
        ("jemalloc", "libjemalloc2", "libjemalloc.so.2"),
        ("mimalloc", "libmimalloc2.0", "libmimalloc.so.2"),
    ];

    /// <summary>The allocator this process runs on: a known one whose library is mapped into it, a preloaded path, or
    /// "system".</summary>
    public static string InUse
    {
        get
        {
            if (!OperatingSystem.IsLinux())
                return "system";
            string maps;
            try
            {
                maps = File.ReadAllText("/proc/self/maps");
            }
            catch (IOException)
            {
                return "system";
            }
            foreach (var k in Known)
                if (maps.Contains("/" + k.File, StringComparison.Ordinal))
                    return k.Name;
            string? preload = Environment.GetEnvironmentVariable("LD_PRELOAD");
            return !string.IsNullOrEmpty(preload) && Environment.GetEnvironmentVariable(AppliedVariable) is not null
                ? preload
                : "system";
        }
    }
}
