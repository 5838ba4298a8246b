using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace TorchLabs.Runtime;

/// <summary>Versions and settings of the libtorch runtime that TorchLabs runs on.</summary>
/// <param name="TorchSharp">TorchSharp's package version.</param>
/// <param name="Libtorch">The libtorch version TorchSharp was built against.</param>
/// <param name="Backend">The build's backend: cpu or cuda (chosen with -p:TorchBackend at build time).</param>
/// <param name="Cuda">Whether libtorch sees a usable CUDA device.</param>
/// <param name="Threads">libtorch's intra-op thread count.</param>
public sealed record RuntimeInfo(string TorchSharp, string Libtorch, string Backend, bool Cuda, int Threads);

/// <summary>Loading libtorch, choosing devices and thread counts, and describing the runtime.</summary>
public static class TorchRuntime
{
    /// <summary>The backend this build was made for, from the assembly metadata Directory.Build.targets writes.</summary>
    public static string Backend => Metadata("TorchBackend") ?? "cpu";

    /// <summary>The TorchSharp package this build references (TorchSharp-cpu, TorchSharp-cuda-linux, ...).</summary>
    public static string Package => Metadata("TorchSharpPackage") ?? "TorchSharp-cpu";

    /// <summary>TorchSharp's version, e.g. 0.107.0.</summary>
    public static string TorchSharpVersion
    {
        get
        {
            var asm = typeof(torch).Assembly;
            string? info = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            if (info is not null) return info.Split('+')[0];
            return asm.GetName().Version?.ToString(3) ?? "unknown";
        }
    }

    /// <summary>The libtorch version, e.g. 2.10.0 (TorchSharp's torch.__version__ names it).</summary>
    public static string LibtorchVersion
    {
        get
        {
            string v = torch.__version__;
            // Normalise "2.10.0.0" or "2.10.0+cpu" to "2.10.0".
            v = v.Split('+')[0];
            string[] parts = v.Split('.');
            return parts.Length > 3 ? string.Join('.', parts.Take(3)) : v;
        }
    }

    public static RuntimeInfo Describe() =>
        new(TorchSharpVersion, LibtorchVersion, Backend, torch.cuda.is_available(), torch.get_num_threads());

    /// <summary>Sets libtorch's intra-op thread count. Null or 0 leaves libtorch's default (all cores).</summary>
    public static void SetThreads(int? threads)
    {
        if (threads is null or 0) return;
        if (threads < 0) throw new UsageException($"--threads {threads}: expected a positive number of threads (or 0 for all cores)");
        torch.set_num_threads(threads.Value);
    }

    /// <summary>
    /// Parses a device name (cpu, cuda, cuda:N). A CUDA device on a build or machine without CUDA is a usage
    /// error whose message says how to get a CUDA build.
    /// </summary>
    public static torch.Device ResolveDevice(string? name)
    {
        string d = (name ?? "cpu").Trim().ToLowerInvariant();
        if (d == "cpu") return torch.CPU;
        if (d == "cuda" || d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (d.Length > 5 && !int.TryParse(d.AsSpan(5), out index))
                throw new UsageException($"--device {name}: expected cpu, cuda or cuda:N");
            if (!torch.cuda.is_available())
            {
                string why = Backend == "cuda"
                    ? "this is a CUDA build, but libtorch sees no CUDA device (check the NVIDIA driver and nvidia-smi)"
                    : "this build uses the cpu backend; rebuild with `dotnet build -p:TorchBackend=cuda` on a machine with an NVIDIA GPU and driver";
                throw new UsageException($"--device {name}: CUDA is not available: {why}");
            }
            if (index >= torch.cuda.device_count())
                throw new UsageException($"--device {name}: only {torch.cuda.device_count()} CUDA device(s) present");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new UsageException($"--device {name}: expected cpu, cuda or cuda:N");
    }

    /// <summary>
    /// Loads libtorch and turns NNPACK off. On CPUs that NNPACK does not support, libtorch tries to initialise it on every
    /// batch-1 convolution and prints "Could not initialize NNPACK! Reason: Unsupported hardware." each time; with NNPACK
    /// disabled by the user flag it does not try. Where the symbols are not found (another libtorch build), nothing changes.
    /// </summary>
    public static void Initialize()
    {
        if (initialized) return;
        initialized = true;
        _ = torch.get_num_threads();
        try { SetUserEnabledNnpack(GlobalContext(), false); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    static bool initialized;

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    static string? Metadata(string key) =>
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value;
}
