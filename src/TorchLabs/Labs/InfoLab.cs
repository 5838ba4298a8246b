using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>The runtime: TorchSharp and libtorch versions, backend, device, threads, and the machine.</summary>
public sealed class InfoLab()
    : ReportLab(
        "info",
        "Runtime and machine",
        "TorchSharp and libtorch versions, backend, CUDA, threads, and the machine"
    )
{
    public override ReportSection Run(LabContext context)
    {
        context.Report("timing matrix products");
        var points = MatmulThroughput(context.Device, [32, 64, 128, 256, 512]);
        var info = TorchRuntime.Describe();
        var blocks = new List<Block>
        {
            new Paragraph(
                "What TorchLabs ran on. Every other section's numbers come from this libtorch, on this machine."
            ),
            new Table(
                ["key", "value"],
                RuntimeRows(info)
                    .Concat(MachineInfo.Rows())
                    .Select(r => (IReadOnlyList<string>)[r.Key, r.Value])
                    .ToList()
            ),
        };
        var plot = new ScottPlot.Plot();
        var scatter = plot.Add.Scatter(
            points.Select(p => (double)p.N).ToArray(),
            points.Select(p => p.Gflops).ToArray()
        );
        scatter.LegendText = $"float32, {info.Threads} thread(s)";
        plot.Axes.Bottom.Label.Text = "n (an n x n times n x n product)";
        plot.Axes.Left.Label.Text = "GFLOP/s (2 n^3 / time)";
        plot.Title($"libtorch matrix product throughput on {context.Device.type.ToString().ToLowerInvariant()}");
        plot.ShowLegend();
        blocks.Add(
            new Paragraph(
                "A quick measure of the machine through libtorch: the floating-point rate of a square matrix product, the median of several runs at each size. Small sizes are dominated by call overhead, large ones by the BLAS kernel."
            )
        );
        blocks.Add(Figures.Of(plot, "info-matmul", "libtorch matmul throughput against matrix size"));
        blocks.Add(
            new Table(
                ["n", "median time (ms)", "GFLOP/s"],
                points
                    .Select(p =>
                        (IReadOnlyList<string>)
                            [p.N.ToString(), (p.Seconds * 1e3).ToString("0.000"), p.Gflops.ToString("0.00")]
                    )
                    .ToList()
            )
        );
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber = $"TorchSharp {info.TorchSharp}, libtorch {info.Libtorch}, {info.Backend}",
        };
    }

    public static IEnumerable<(string Key, string Value)> RuntimeRows(RuntimeInfo info) =>
        [
            ("TorchSharp", info.TorchSharp),
            ("libtorch", info.Libtorch),
            ("backend", $"{info.Backend} ({TorchRuntime.Package})"),
            ("CUDA available", info.Cuda ? "yes" : "no"),
            ("threads", info.Threads.ToString()),
            ("thread rule", info.ThreadRule),
            ("C allocator", info.Allocator == "system" ? "glibc's (system)" : info.Allocator),
        ];

    /// <summary>Median time of an n x n float32 matrix product at each size, and the implied GFLOP/s.</summary>
    public static List<(int N, double Seconds, double Gflops)> MatmulThroughput(Device device, int[] sizes)
    {
        var result = new List<(int, double, double)>();
        var gen = new torch.Generator(0);
        foreach (int n in sizes)
        {
            using var scope = torch.NewDisposeScope();
            var a = torch.rand([n, n], generator: gen).to(device);
            var b = torch.rand([n, n], generator: gen).to(device);
            torch.matmul(a, b).Dispose(); // warm-up
            int reps = Math.Max(3, Math.Min(50, 4_000_000 / (n * n)));
            var times = new double[reps];
            for (int r = 0; r < reps; r++)
            {
                var sw = Stopwatch.StartNew();
                using var c = torch.matmul(a, b);
                if (device.type == DeviceType.CUDA)
                    torch.cuda.synchronize();
                times[r] = sw.Elapsed.TotalSeconds;
            }
            Array.Sort(times);
            double t = times[reps / 2];
            result.Add((n, t, 2.0 * n * n * n / t / 1e9));
        }
        return result;
    }
}

/// <summary>A description of the machine, for report headers and benchmark tables.</summary>
public static class MachineInfo
{
    public static IEnumerable<(string Key, string Value)> Rows() =>
        [
            ("OS", RuntimeInformation.OSDescription),
            ("CPU", CpuModel()),
            ("cores", Environment.ProcessorCount.ToString()),
            ("memory", $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB"),
            (".NET", RuntimeInformation.FrameworkDescription),
        ];

    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
