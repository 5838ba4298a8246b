using System.Reflection;
using System.Runtime.InteropServices;

namespace TorchLabs.Runtime;

/// <summary>Versions and settings of the libtorch runtime that TorchLabs runs on.</summary>
/// <param name="TorchSharp">TorchSharp's package version.</param>
/// <param name="Libtorch">The libtorch version TorchSharp was built against.</param>
/// <param name="Backend">The build's backend: cpu or cuda (chosen with -p:TorchBackend at build time).</param>
/// <param name="Cuda">Whether libtorch sees a usable CUDA device.</param>
/// <param name="Threads">libtorch's intra-op thread count (as set for this command).</param>
/// <param name="Cores">The machine's cores.</param>
/// <param name="ThreadRule">How commands choose their threads when --threads is not given.</param>
public sealed record RuntimeInfo(
    string TorchSharp,
    string Libtorch,
    string Backend,
    bool Cuda,
    int Threads,
    int Cores,
    string ThreadRule,
    string Allocator
);

/// <summary>Loading libtorch, choosing devices and thread counts, and describing the runtime.</summary>
public static class TorchRuntime
{
    /// <summary>The backend this build was made for, from the assembly metadata Directory.Build.targets
    /// writes.</summary>
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
            if (info is not null)
                return info.Split('+')[0];
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
        new(
            TorchSharpVersion,
            LibtorchVersion,
            Backend,
            torch.cuda.is_available(),
            torch.get_num_threads(),
            Cores,
            ThreadRule,
            Allocators.InUse
        );

    /// <summary>The thread rule in one sentence (info, the report).</summary>
    public static string ThreadRule =>
        $"unless given: 1 intra-op thread for batches below {SmallBatch} and small ops, all {Cores} cores for larger batches and vector-backprop";

    /// <summary>Batches smaller than this run on one intra-op thread by default (docs/performance.md,
    /// "Threads").</summary>
    public const int SmallBatch = 32;

    /// <summary>The cores of this machine.</summary>
    public static int Cores => Environment.ProcessorCount;

    /// <summary>The largest --threads accepted: 4 × the cores (more only adds wake-ups and memory).</summary>
    public static int MaxThreads => 4 * Cores;

    /// <summary>
    /// The thread rule: intra-op threads chosen by the work, not by the core count. A batch below <see
    /// cref="SmallBatch"/> makes every op tiny, so splitting it buys nothing and a second thread's wake-ups and
    /// barriers cost more than the work; larger batches use every core (docs/performance.md, "Threads", has the
    /// measurements).
    /// </summary>
    public static int ThreadsForBatch(long batchSize) => batchSize < SmallBatch ? 1 : Cores;

    /// <summary>
    /// Sets libtorch's intra-op thread count: <paramref name="requested"/> (--threads) when given, 0 meaning all cores,
    /// otherwise the command's <paramref name="defaultThreads"/>. Returns the count in use. Above <see
    /// cref="MaxThreads"/> is bad input.
    /// </summary>
    public static int SetThreads(int? requested, int defaultThreads = 1)
    {
        if (requested < 0)
            throw new UsageException(
                $"‹threads› {requested}: expected a positive number of threads (or 0 for all cores)"
            );
        if (requested > MaxThreads)
            throw new UsageException(
                $"‹threads› {requested}: expected at most {MaxThreads} (4 × the {Cores} cores of this machine)"
            );
        int n = requested switch
        {
            null => defaultThreads,
            0 => Cores,
            _ => requested.Value,
        };
        if (torch.get_num_threads() != n)
            torch.set_num_threads(n);
        return n;
    }

    /// <summary>
    /// Parses a device name (cpu, cuda, cuda:N). A CUDA device on a build or machine without CUDA is a usage
    /// error whose message says how to get a CUDA build.
    /// </summary>
    public static torch.Device ResolveDevice(string? name)
    {
        string d = (name ?? "cpu").Trim().ToLowerInvariant();
        if (d == "cpu")
            return torch.CPU;
        if (d == "cuda" || d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (d.Length > 5 && !int.TryParse(d.AsSpan(5), out index))
                throw new UsageException($"‹device› {name}: expected cpu, cuda or cuda:N");
            if (!torch.cuda.is_available())
            {
                string why =
                    Backend == "cuda"
                        ? "this is a CUDA build, but libtorch sees no CUDA device (check the NVIDIA driver and nvidia-smi)"
                        : "this build uses the cpu backend; rebuild with `dotnet build -p:TorchBackend=cuda` on a machine with an NVIDIA GPU and driver";
                throw new UsageException($"‹device› {name}: CUDA is not available: {why}");
            }
            if (index >= torch.cuda.device_count())
                throw new UsageException($"‹device› {name}: only {torch.cuda.device_count()} CUDA device(s) present");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new UsageException($"‹device› {name}: expected cpu, cuda or cuda:N");
    }

    /// <summary>
    /// Loads libtorch and turns NNPACK off. On CPUs that NNPACK does not support, libtorch tries to initialise it on
    /// every batch-1 convolution and prints "Could not initialize NNPACK! Reason: Unsupported hardware." each time;
    /// with NNPACK disabled by the user flag it does not try. Where the symbols are not found (another libtorch build),
    /// nothing changes.
    /// </summary>
    public static void Initialize()
    {
        if (initialized)
            return;
        initialized = true;
        _ = torch.get_num_threads();
        try
        {
            SetUserEnabledNnpack(GlobalContext(), false);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    static bool initialized;

    /// <summary>
    /// Turns libtorch's oneDNN (MKLDNN) kernels on or off (at::Context::setUserEnabledMkldnn); false where the symbol
    /// is not found (another libtorch build). Convolutions then use libtorch's own CPU kernels.
    /// </summary>
    public static bool SetMkldnn(bool enabled)
    {
        Initialize();
        try
        {
            SetUserEnabledMkldnn(GlobalContext(), enabled);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    static string? Metadata(string key) =>
        typeof(TorchRuntime)
            .Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)
            ?.Value;
}
