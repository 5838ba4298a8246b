using System.Text.Json;
using TorchLabs.Data;
using TorchLabs.Labs;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Data;

/// <summary>
/// `torchlabs conformance data` against PyTorch 1.13's goldens (scripts/golden/data_pipeline.py, Golden/
/// data_pipeline.json): TorchLabs' ToTensor, Normalize, loader and sampler orders give PyTorch's numbers exactly, and
/// TorchSharp 0.107's and TorchVision 0.107's differences are found where their sources say.
/// </summary>
public class DataConformanceTests
{
    static readonly JsonElement Golden = JsonDocument
        .Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "data_pipeline.json")))
        .RootElement;

    static long[][] Orders(JsonElement c) =>
        [
            .. c.GetProperty("orders")
                .EnumerateArray()
                .Select(o => o.EnumerateArray().Select(v => v.GetInt64()).ToArray()),
        ];

    [Fact]
    public void TheEmbeddedGoldens_AreTheCheckedInFile() =>
        Assert.Equal(Golden.GetRawText(), DataConformance.Goldens.GetRawText());

    [Fact]
    public void ToTensorAndNormalize_ArePyTorchs_ForEveryByte()
    {
        using var bytes = arange(256, ScalarType.Int32).to_type(ScalarType.Byte);
        using var x = Cifar10.ToTensor(bytes);
        using var y = Cifar10.Normalize(bytes);
        var cifar = Golden.GetProperty("cifar");
        // float32 from PyTorch, written as the doubles they are: equal bit for bit.
        Assert.Equal(cifar.GetProperty("toTensor").EnumerateArray().Select(v => (float)v.GetDouble()), x.data<float>());
        Assert.Equal(
            cifar.GetProperty("normalize").EnumerateArray().Select(v => (float)v.GetDouble()),
            y.data<float>()
        );
    }

    [Fact]
    public void LoaderOrders_ArePyTorchs_OverThreeEpochs()
    {
        foreach (var c in Golden.GetProperty("loader").EnumerateArray())
        {
            using var g = new Generator((ulong)c.GetProperty("seed").GetInt64());
            int n = c.GetProperty("n").GetInt32();
            foreach (long[] expected in Orders(c))
                Assert.Equal(expected, Cifar10Loader.DrawOrder(n, shuffle: true, g));
        }
    }

    [Fact]
    public void SamplerOrders_ArePyTorchs_OverThreeEpochs()
    {
        foreach (var c in Golden.GetProperty("sampler").EnumerateArray())
        {
            using var g = new Generator((ulong)c.GetProperty("seed").GetInt64());
            int n = c.GetProperty("n").GetInt32();
            foreach (long[] expected in Orders(c))
                Assert.Equal(expected, Cifar10Loader.SamplerOrder(n, g));
        }
    }

    [Fact]
    public void Run_FindsTorchSharpsDifferences_AndTorchLabsAgreesEverywhere()
    {
        var cases = DataConformance.Run();
        Assert.DoesNotContain(cases, c => c.TorchLabsFault || c.TorchLabs.Contains("TorchLabs fault"));
        DataCase Case(string start) => cases.First(c => c.Case.StartsWith(start, StringComparison.Ordinal));
        var pixels = Case("datasets.CIFAR10 + ToTensor()");
        // Byte 1 is the first element that differs: 1/256 against PyTorch's 1/255 (byte 0 gives 0 in both).
        Assert.Equal(("record 0, element 1", "byte 1 → 0.00390625"), (pixels.FirstDifference, pixels.TorchSharp));
        Assert.True(Case("+ Normalize").Differs);
        Assert.Contains("InvalidDataException", Case("datasets.CIFAR10 on a batch file").TorchSharp);
        Assert.Contains("ArgumentException", Case("transforms.Normalize on one image").TorchSharp);
        var loaders = cases.Where(c => c.Case.StartsWith("torch.manual_seed", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, loaders.Count);
        Assert.All(loaders, c => Assert.Contains("(the same every epoch)", c.TorchSharp));
        Assert.All(loaders, c => Assert.Equal("epoch 1, index 0", c.FirstDifference));
        Assert.All(cases.Where(c => c.Case.Contains("drop_last")), c => Assert.False(c.Differs, c.Case));
        Assert.All(cases.Where(c => c.Differs), c => Assert.NotEmpty(c.Cause));
        Assert.All(cases.Where(c => !c.Differs), c => Assert.Empty(c.Cause)); // a cause only where they differ
    }

    [Fact]
    public void TheCommand_PrintsTheCasesAsJson_AndExitsZero()
    {
        var r = TestEnvironment.RunInProcess("conformance", "data", "--format", "json", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.StdErr);
        var cases = JsonDocument.Parse(r.StdOut).RootElement.GetProperty("cases");
        Assert.Equal(DataConformance.Run().Count, cases.GetArrayLength());
        Assert.Contains(cases.EnumerateArray(), c =>
            c.GetProperty("case").GetString()!.StartsWith("datasets.CIFAR10") && c.GetProperty("differs").GetBoolean()
        );
    }
}
