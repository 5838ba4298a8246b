using System.Runtime.InteropServices;
using static TorchLabs.Runtime.Allocators;

namespace TorchLabs.Cli;

/// <summary>
/// The C allocator under libtorch. A training step at batch 4 allocates and frees a few dozen buffers and graph nodes
/// through malloc, and with glibc's allocator that is a sizeable part of the step; a thread-caching allocator —
/// tcmalloc, jemalloc or mimalloc, as PyTorch's CPU performance guide recommends — makes the same step faster without
/// touching a number (the measurements: docs/performance.md). An allocator has to be in place before the first malloc,
/// so the `torchlabs` program re-executes itself once, at start, with LD_PRELOAD naming the library (Linux only; the
/// process keeps its id, arguments and streams). TORCHLABS_ALLOCATOR chooses: auto (the default: the first of tcmalloc,
/// jemalloc, mimalloc installed, else glibc's), system (glibc's, no re-execution), tcmalloc, jemalloc, mimalloc, or the
/// path of a shared library.
/// </summary>
public static class NativeAllocator
{
    /// <summary>The known allocators (<see cref="Allocators.Known"/>).</summary>
    public static (string Name, string Package, string File)[] Known => Allocators.Known;

    /// <summary>The allocator this process runs on (<see cref="Allocators.InUse"/>).</summary>
    public static string InUse => Allocators.InUse;

    public const string Variable = "TORCHLABS_ALLOCATOR";

    static readonly string[] LibraryFolders =
    [
        "/usr/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/local/lib",
        "/usr/lib",
    ];

    /// <summary>
    /// The library that <paramref name="setting"/> asks for, or null for glibc's allocator. An explicit name or path
    /// that is not installed is an error (one line naming the setting and what to install); auto quietly falls back to
    /// glibc's.
    /// </summary>
    public static string? Choose(string? setting, Func<string, bool> fileExists)
    {
        string s = string.IsNullOrWhiteSpace(setting) ? "auto" : setting.Trim();
        string? Find(string file) => LibraryFolders.Select(d => Path.Combine(d, file)).FirstOrDefault(fileExists);
        if (s == "system")
            return null;
        if (s == "auto")
            return Known.Select(k => Find(k.File)).FirstOrDefault(p => p is not null);
        foreach (var k in Known)
            if (s == k.Name)
                return Find(k.File)
                    ?? throw new UsageException(
                        $"{Variable}={s}: {k.File} is not installed (apt-get install {k.Package}), or use auto or system"
                    );
        string expected =
            $"expected auto, system, {string.Join(", ", Known.Select(k => k.Name))} or the path of a shared library";
        if (s.Contains('/'))
        {
            if (!fileExists(s))
                throw new UsageException($"{Variable}={Printable.Escape(s)}: no such file; {expected}");
            // ld.so splits LD_PRELOAD at spaces and colons, and takes any file it is given: only a readable shared
            // library of this machine's architecture, named without either, is preloaded.
            if (s.IndexOfAny([' ', ':']) >= 0)
                throw new UsageException(
                    $"{Variable}={Printable.Escape(s)}: a path with a space or colon cannot be preloaded; {expected}"
                );
            string? why = ElfProblem(s);
            if (why is not null)
                throw new UsageException($"{Variable}={Printable.Escape(s)}: {why}; {expected}");
            return Path.GetFullPath(s);
        }
        throw new UsageException($"{Variable}={s}: unknown allocator; {expected}");
    }

    /// <summary>
    /// Null when <paramref name="path"/> is an ELF shared library for this process's architecture (64-bit, ET_DYN, the
    /// machine's e_machine); else what it is instead. A file that cannot be read is such a problem too.
    /// </summary>
    public static string? ElfProblem(string path)
    {
        var head = new byte[20];
        try
        {
            using var fs = File.OpenRead(path);
            if (fs.Read(head, 0, head.Length) < head.Length)
                return "not an ELF shared library (too short)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read ({Printable.Escape(e.Message)})";
        }
        if (head[0] != 0x7F || head[1] != (byte)'E' || head[2] != (byte)'L' || head[3] != (byte)'F')
            return "not an ELF file";
        if (head[4] != 2 || head[5] != 1)
            return "not a 64-bit little-endian ELF file";
        if (BitConverter.ToUInt16(head, 16) != 3)
            return "an ELF file but not a shared library";
        ushort machine = BitConverter.ToUInt16(head, 18);
        ushort expectedMachine = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 62,
            Architecture.Arm64 => 183,
            _ => machine,
        };
        return machine == expectedMachine ? null : $"a shared library for another architecture (ELF machine {machine})";
    }

    /// <summary>
    /// Re-executes this program with the chosen allocator preloaded and does not return, unless there is nothing to do:
    /// not Linux, already re-executed, LD_PRELOAD already set by the caller (TORCHLABS_ALLOCATOR is still checked),
    /// glibc's allocator chosen or none installed. A failing exec (it should not) leaves the program running on glibc's
    /// allocator.
    /// </summary>
    public static void ReexecuteIfWanted(string[] args)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(AppliedVariable) is not null)
            return;
        // a bad setting is exit 2, whatever follows
        string? library = Choose(Environment.GetEnvironmentVariable(Variable), File.Exists);
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LD_PRELOAD")))
            return; // the caller's own preload stays
        string? self = Environment.ProcessPath;
        if (library is null || self is null)
            return;
        // `dotnet torchlabs.dll ...` runs the host; the apphost `torchlabs ...` runs itself.
        var argv = new List<string?> { self };
        if (
            Path.GetFileNameWithoutExtension(self) == "dotnet"
            && System.Reflection.Assembly.GetEntryAssembly()?.Location is { Length: > 0 } dll
        )
            argv.Add(dll);
        argv.AddRange(args);
        argv.Add(null);
        var env = Environment
            .GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}")
            .Append($"LD_PRELOAD={library}")
            .Append($"{AppliedVariable}=1")
            .Cast<string?>()
            .Append(null)
            .ToArray();
        Console.Out.Flush();
        Console.Error.Flush();
        execve(self, [.. argv], env);
    }

    [DllImport("libc", SetLastError = true)]
    static extern int execve(string path, string?[] argv, string?[] envp);
}
