using System.IO.Compression;
using TorchLabs.Models;

namespace TorchLabs.Tests.Models;

/// <summary>
/// The .pth reader's budget (<see cref="PthFile.MaxPickleOperations"/>): a small file whose pickle would build millions
/// of objects is refused quickly and with little memory, in both formats; real state dicts need a small part of it. And
/// LONG1 integers that fit in 64 bits are read as integers.
/// </summary>
public class PthFileBudgetTests
{
    static string Write(byte[] bytes)
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "model.pth");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A zip .pth whose data.pkl is <paramref name="pickle"/> (deflated: a 100 MB pickle is a few hundred
    /// KB).</summary>
    static string ZipPth(byte[] pickle)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.Optimal).Open();
            s.Write(pickle);
        }
        return Write(ms.ToArray());
    }

    static void RefusedQuicklyAndSmall(string path)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var stream = File.OpenRead(path);
        var e = Assert.Throws<FormatException>(() => PthFile.Open(stream));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains($"more than {PthFile.MaxPickleOperations} operations", e.Message);
        // Stated bounds, not timings of the machine: the budget stops the reader after 200,000 small objects, far under
        // both.
        Assert.True(allocated < 200L << 20, $"{allocated:N0} bytes allocated before the refusal");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed} before the refusal");
    }

    [Fact]
    public void ZipPickle_OfMillionsOfEmptyDicts_IsRefusedByTheBudget()
    {
        var pickle = new List<byte> { 0x80, 0x02, (byte)']' }; // PROTO 2, EMPTY_LIST
        for (int chunk = 0; chunk < 1000; chunk++)
        {
            pickle.Add((byte)'('); // MARK
            pickle.AddRange(Enumerable.Repeat((byte)'}', 999)); // EMPTY_DICT × 999
            pickle.Add((byte)'e'); // APPENDS
        }
        pickle.Add((byte)'.');
        RefusedQuicklyAndSmall(ZipPth([.. pickle]));
    }

    [Fact]
    public void LegacyPickle_OfMillionsOfMarks_IsRefusedByTheBudget()
    {
        byte[] pickle = [0x80, 0x02, .. Enumerable.Repeat((byte)'(', 1_000_000), (byte)'.']; // MARK × 1,000,000
        RefusedQuicklyAndSmall(Write(pickle));
    }

    [Fact]
    public void RealStateDicts_UseASmallPartOfTheBudget()
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Golden", "cifar_net.pth"));
        using var pth = PthFile.Open(stream);
        Assert.InRange(pth.PickleOperations, 1, 1000); // the tutorial Net (torch.save of its state dict)
    }

    [Fact]
    public void Long1_ThatFitsInALong_IsReadAsALong()
    {
        // The legacy format's first two pickles: the magic number (LONG1 of 10 bytes), then the protocol version 1001
        // written as LONG1 of 2 bytes instead of BININT2; then system info, an empty state dict and no storages.
        byte[] magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
        byte[] file =
        [
            0x80,
            0x02,
            0x8a,
            10,
            .. magic,
            (byte)'.',
            0x80,
            0x02,
            0x8a,
            2,
            0xe9,
            0x03,
            (byte)'.',
            0x80,
            0x02,
            (byte)'N',
            (byte)'.',
            0x80,
            0x02,
            (byte)'}',
            (byte)'.',
            0x80,
            0x02,
            (byte)']',
            (byte)'.',
        ];
        using var stream = File.OpenRead(Write(file));
        using var pth = PthFile.Open(stream); // before the fix: "legacy format: unknown protocol version"
        Assert.Equal(15, pth.PickleOperations);
    }

    [Fact]
    public void LegacyPickles_StartEachWithAnEmptyStack_NoMarkCarriesOver()
    {
        // Five pickles as Long1_ThatFitsInALong_IsReadAsALong's, but the system-info pickle leaves a MARK behind and
        // the state dict's closes a tuple with no MARK of its own: refused, as a fresh pickle reader refuses it.
        byte[] magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
        byte[] file =
        [
            .. new byte[] { 0x80, 0x02, 0x8a, 10 },
            .. magic,
            (byte)'.',
            .. new byte[] { 0x80, 0x02, (byte)'M', 0xe9, 0x03, (byte)'.' },
            .. new byte[] { 0x80, 0x02, (byte)'(', (byte)'N', (byte)'.' },
            .. new byte[] { 0x80, 0x02, (byte)'K', 1, (byte)'K', 2, (byte)'t', (byte)'.' },
            .. new byte[] { 0x80, 0x02, (byte)']', (byte)'.' },
        ];
        using var stream = File.OpenRead(Write(file));
        var e = Assert.Throws<FormatException>(() => PthFile.Open(stream));
        Assert.Contains("no MARK", e.Message);
    }
}
