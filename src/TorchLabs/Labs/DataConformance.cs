using System.Globalization;
using System.Text.Json;
using TorchLabs.Data;

namespace TorchLabs.Labs;

/// <summary>
/// One case of `torchlabs conformance data`: what PyTorch 1.13 gives (its goldens, scripts/golden/data_pipeline.py),
/// what TorchSharp's or TorchVision's call gives here, where they first differ, and what TorchLabs' own code gives.
/// </summary>
/// <param name="Case">The call, in PyTorch's words.</param>
/// <param name="FirstDifference">Where the two first differ ("" when they agree).</param>
/// <param name="TorchLabs">What TorchLabs' code gives, and whether it is PyTorch's answer.</param>
/// <param name="Cause">Why they differ, read in TorchSharp's source (kept only when they differ).</param>
/// <param name="TorchLabsFault">TorchLabs' own answer is not PyTorch's (the command then exits 1).</param>
public sealed record DataCase(
    string Case,
    string PyTorch,
    string TorchSharp,
    string FirstDifference,
    string TorchLabs,
    string Cause,
    bool TorchLabsFault = false
)
{
    public bool Differs => FirstDifference.Length > 0;

    public string Cause { get; } = FirstDifference.Length > 0 ? Cause : "";
}

/// <summary>
/// TorchSharp's and TorchVision's data pipeline against PyTorch 1.13's, on generated CIFAR-format bytes: record i holds
/// the bytes (7 i + j) mod 256. PyTorch's side is its goldens, embedded in the library; TorchSharp's is computed here,
/// and so is TorchLabs' (Data/Cifar10.cs, Cifar10Loader.cs), which gives PyTorch's answer where TorchSharp does not.
/// </summary>
public static partial class DataConformance
{
    /// <summary>Bytes in one CIFAR record's image (3 × 32 × 32).</summary>
    const int Pixels = Cifar10.RecordPixels;

    /// <summary>Records that TorchVision's CIFAR10 requires in a batch file.</summary>
    public const int TorchVisionRecords = 10_000;

    /// <summary>PyTorch's goldens (tests/TorchLabs.Tests/Golden/data_pipeline.json, embedded).</summary>
    public static JsonElement Goldens { get; } = ReadGoldens();

    static JsonElement ReadGoldens()
    {
        using var stream = typeof(DataConformance).Assembly.GetManifestResourceStream("data_pipeline.json")!;
        return JsonDocument.Parse(stream).RootElement.Clone();
    }

    /// <summary>Byte j of generated record i.</summary>
    public static byte Byte(int record, int j) => (byte)((7 * record + j) % 256);

    /// <summary>Every case, in the table's order; <paramref name="status"/> hears which runs.</summary>
    public static IReadOnlyList<DataCase> Run(IProgress<string>? status = null)
    {
        string root = Path.Combine(Path.GetTempPath(), $"torchlabs-data-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            status?.Report("TorchVision's CIFAR10 on a generated batch file");
            var cases = new List<DataCase>(CifarCases(root)) { NormalizeOneImage() };
            status?.Report("DataLoader orders");
            foreach (var golden in Goldens.GetProperty("loader").EnumerateArray())
                cases.Add(LoaderCase(golden));
            cases.Add(UnseededLoaderCase(Goldens.GetProperty("loader")[0]));
            foreach (var golden in Goldens.GetProperty("sampler").EnumerateArray())
                cases.Add(SamplerCase(golden));
            foreach (var golden in Goldens.GetProperty("dropLast").EnumerateArray())
                cases.AddRange(DropLastCases(golden));
            return cases;
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A CIFAR-10 binary folder in TorchVision's layout (ROOT/CIFAR10/cifar-10-batches-bin) whose
    /// test_batch.bin holds <paramref name="records"/> generated records (label i mod 10).</summary>
    public static string WriteTestBatch(string root, int records)
    {
        string folder = Path.Combine(root, "CIFAR10", Cifar10.FolderName);
        Directory.CreateDirectory(folder);
        var bytes = new byte[(long)records * Cifar10.RecordSize];
        for (int i = 0; i < records; i++)
        {
            int start = i * Cifar10.RecordSize;
            bytes[start] = (byte)(i % 10);
            for (int j = 0; j < Pixels; j++)
                bytes[start + 1 + j] = Byte(i, j);
        }
        File.WriteAllBytes(Path.Combine(folder, Cifar10.TestFile), bytes);
        return folder;
    }

    /// <summary>The first (record, element) of <paramref name="records"/> whose value is not PyTorch's, from
    /// <paramref name="table"/> (PyTorch's value for each byte value); null when every value is.</summary>
    static (int Record, int Element, float Value)? FirstOff(Func<int, float[]> records, int count, double[] table)
    {
        for (int i = 0; i < count; i++)
        {
            float[] x = records(i);
            for (int j = 0; j < Pixels; j++)
                if (x[j] != (float)table[Byte(i, j)])
                    return (i, j, x[j]);
        }
        return null;
    }

    static double[] Table(string name) =>
        [.. Goldens.GetProperty("cifar").GetProperty(name).EnumerateArray().Select(v => v.GetDouble())];

    static string G(double v) => v.ToString("G9", CultureInfo.InvariantCulture);

    /// <summary>The cases as the table `conformance data` prints.</summary>
    public static Reporting.Table ToTable(IReadOnlyList<DataCase> cases) =>
        new(
            ["case", "PyTorch 1.13", "TorchSharp / TorchVision 0.107", "first difference", "TorchLabs"],
            [
                .. cases.Select(c =>
                    (IReadOnlyList<string>)
                        [c.Case, c.PyTorch, c.TorchSharp, c.Differs ? c.FirstDifference : "agrees", c.TorchLabs]
                ),
            ],
            "TorchSharp's and TorchVision's data pipeline against PyTorch's (docs/conformance.md has each difference)"
        );

    /// <summary>What TorchLabs gives: <paramref name="what"/>, or that it differs from PyTorch's.</summary>
    static string Ours(bool agrees, string what) => agrees ? what : $"differs (a TorchLabs fault): {what}";

    /// <summary>Up to six numbers of an order, then "…".</summary>
    static string Few(IEnumerable<long> order)
    {
        var list = order.ToList();
        return string.Join(" ", list.Take(6)) + (list.Count > 6 ? " …" : "");
    }
}
