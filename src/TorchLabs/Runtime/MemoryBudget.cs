using System.Globalization;

namespace TorchLabs.Runtime;

/// <summary>
/// Sizes are checked against the machine before any work: an estimate of what a run would allocate, refused with one
/// line when it cannot fit (instead of exhausting the machine or coming back from libtorch as an allocation failure
/// with native frames). Generous on purpose: anything that fits in 80 % of the available memory runs.
/// </summary>
public static class MemoryBudget
{
    /// <summary>The most central-difference parameters a gradient check takes (each costs two forward
    /// passes).</summary>
    public const long MaxCheckedParameters = 100_000;

    /// <summary>Memory available to this process: MemAvailable of /proc/meminfo, else what the runtime
    /// reports.</summary>
    public static long AvailableBytes
    {
        get
        {
            try
            {
                foreach (string line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                        return long.Parse(
                                line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
                                CultureInfo.InvariantCulture
                            ) * 1024;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        }
    }

    /// <summary>Throws <see cref="UsageException"/> when <paramref name="bytes"/> exceed 80 % of <see
    /// cref="AvailableBytes"/>; <paramref name="what"/> names the inputs.</summary>
    public static void Require(double bytes, string what)
    {
        long available = AvailableBytes;
        if (bytes > 0.8 * available)
            throw new UsageException(
                $"{what}: would need about {Format(bytes)} of memory; this machine has {Format(available)} available"
            );
    }

    /// <summary>Throws <see cref="UsageException"/> when a gradient check would take central differences over more than
    /// <see cref="MaxCheckedParameters"/> values.</summary>
    public static void RequireCheckable(double parameters, string what)
    {
        if (parameters > MaxCheckedParameters)
            throw new UsageException(
                $"{what}: {parameters:N0} values to check by central differences (two forward passes each); at most {MaxCheckedParameters:N0}"
            );
    }

    public static string Format(double bytes) =>
        bytes switch
        {
            >= 1L << 40 => $"{bytes / (1L << 40):0.#} TiB",
            >= 1L << 30 => $"{bytes / (1L << 30):0.#} GiB",
            >= 1L << 20 => $"{bytes / (1L << 20):0.#} MiB",
            _ => $"{bytes / 1024:0.#} KiB",
        };
}
