using System.Text.Json;
using TorchLabs.Models;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Models;

/// <summary>
/// #27, defects 2 and 8: .pth files as PyTorch 1.13 wrote them (scripts/golden/pth_variants.py → Golden/pth): the
/// layouts load_state_dict accepts load here with PyTorch's values (exactly: the same float32 bits), and hostile ones
/// are refused in one line from what the pickle declares, before any tensor data is read and without running anything.
/// </summary>
public class PthFileTests
{
    static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "pth", name);

    /// <summary>PyTorch's nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), keys 0.weight … 2.bias.</summary>
    static nn.Module Net() => nn.Sequential(("0", nn.Linear(4, 3)), ("1", nn.ReLU()), ("2", nn.Linear(3, 2)));

    static Dictionary<string, float[]> Expected(string set)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Golden("expected.json")));
        return doc
            .RootElement.GetProperty(set)
            .EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
    }

    [Theory]
    [InlineData("plain.pth", "plain")]
    [InlineData("transposed.pth", "plain")] // a non-contiguous weight: stride (1, 3)
    [InlineData("stride0.pth", "stride0")] // an expanded bias: stride 0
    [InlineData("views.pth", "plain")] // every tensor a view at an offset into one larger storage
    [InlineData("legacy.pth", "plain")] // torch.save(..., _use_new_zipfile_serialization=False)
    // {'model_state_dict': …, 'optimizer_state_dict': …, 'epoch': 3, 'loss': 0.25}
    [InlineData("checkpoint.pth", "plain")]
    public void StateDictsPyTorchAccepts_LoadWithPyTorchsValues(string file, string set)
    {
        var net = Net();
        Assert.Equal(ModelFormat.Pth, ModelFiles.Load(net, Golden(file), "the test net"));
        foreach (var (key, values) in Expected(set))
            Assert.Equal(values, net.state_dict()[key].data<float>().ToArray());
    }

    [Fact]
    public void CheckpointDictWithoutAStateDict_IsOneLineNamingItsKeys()
    {
        var e = Assert.Throws<UsageException>(() =>
            ModelFiles.Load(Net(), Golden("no-state-dict.pth"), "the test net")
        );
        Assert.Contains(
            "a dict with keys \"epoch\", \"loss\", \"note\" and no state dict under state_dict, model_state_dict",
            e.Message
        );
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void DeflateBomb_IsRefusedFromTheDeclaredStorageSize_BeforeReadingIt()
    {
        // 0.weight is a view of a 2^22-element storage (16 MiB, deflated to 17 KB): more than the net could need.
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<UsageException>(() => ModelFiles.Load(Net(), Golden("deflate-bomb.pth"), "the test net"));
        Assert.Contains("declares 4,194,304 elements (16,777,216 bytes); the test net needs at most", e.Message);
        Assert.Contains("refused before reading it", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 8 << 20, "the storage was not read");
    }

    [Fact]
    public void PickleCallingOsSystem_IsRefusedByName_AndNothingRuns()
    {
        string marker = "/tmp/torchlabs-pwned";
        File.Delete(marker);
        var e = Assert.Throws<UsageException>(() => ModelFiles.Load(Net(), Golden("os-system.pth"), "the test net"));
        Assert.Contains("the pickle names \"posix.system\"", e.Message);
        Assert.Contains("nothing was run", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void TensorReachingPastItsStorage_IsRefused()
    {
        var storage = new PthStorage("0", ScalarType.Float32, 4, 10);
        Assert.Equal(13, new PthTensor(storage, 1, [3, 4], [4, 1]).Extent); // 1 + 2·4 + 3·1 + 1: past the 10 elements
        Assert.Equal(1, new PthTensor(storage, 0, [3], [0]).Extent); // stride 0: one element
        Assert.Equal(0, new PthTensor(storage, 9, [0, 4], [4, 1]).Extent);
        // overflow counts as past the end
        Assert.Equal(long.MaxValue, new PthTensor(storage, 0, [3], [long.MaxValue / 2]).Extent);
    }

    [Fact]
    public void CSharpWrittenPth_ReadsBackBitIdentical_ThroughThePickleReader()
    {
        var net = Net();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "net.pth");
        ModelFiles.SavePth(net, path);
        var read = ModelFiles.Read(path);
        foreach (var (key, t) in net.state_dict())
            Assert.Equal(t.data<float>().ToArray(), read[key].data<float>().ToArray());
    }
}
