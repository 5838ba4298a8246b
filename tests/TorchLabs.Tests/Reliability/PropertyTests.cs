using System.Text;
using TorchLabs.Data;
using TorchLabs.Gradients;
using TorchLabs.Runtime;

namespace TorchLabs.Tests.Reliability;

/// <summary>
/// Arbitrary and truncated bytes fed to the readers (seeded, 400 cases each): only the documented error comes out
/// (<see cref="UsageException"/> naming the input), never another exception, a crash or a hang.
/// </summary>
public class PropertyTests
{
    const int Cases = 400;

    static byte[] ValidIdx()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "v.idx");
        Idx.Write(path, Idx.ImagesMagic, [3, 4, 4], Enumerable.Range(0, 48).Select(i => (byte)i).ToArray());
        return File.ReadAllBytes(path);
    }

    /// <summary>Random bytes, truncations of a valid input, and single-byte corruptions of it.</summary>
    static IEnumerable<byte[]> Mutations(byte[] valid, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < Cases; i++)
        {
            switch (i % 3)
            {
                case 0:
                    var b = new byte[rng.Next(0, 64)];
                    rng.NextBytes(b);
                    yield return b;
                    break;
                case 1:
                    yield return valid[..rng.Next(0, valid.Length)];
                    break;
                default:
                    var c = (byte[])valid.Clone();
                    c[rng.Next(c.Length)] = (byte)rng.Next(256);
                    yield return c;
                    break;
            }
        }
    }

    [Fact]
    public void IdxParse_ArbitraryBytes_OnlyUsageErrors()
    {
        int errors = 0;
        foreach (var bytes in Mutations(ValidIdx(), 1))
        {
            try
            {
                var a = Idx.Parse(bytes, "fuzz.idx", Idx.ImagesMagic);
                Assert.Equal(a.Dimensions.Aggregate(1, (p, d) => p * d), a.Data.Length);
            }
            catch (UsageException e)
            {
                errors++;
                Assert.StartsWith("fuzz.idx", e.Message);
            }
        }
        Assert.True(errors > Cases / 2);
    }

    [Fact]
    public void IdxRead_TruncatedGzip_OnlyUsageErrors()
    {
        string dir = TestEnvironment.NewTempDir();
        string gz = Path.Combine(dir, "v.idx.gz");
        Idx.Write(gz, Idx.ImagesMagic, [3, 4, 4], new byte[48]);
        byte[] valid = File.ReadAllBytes(gz);
        var rng = new Random(2);
        for (int i = 0; i < 100; i++)
        {
            string path = Path.Combine(dir, $"t{i}.gz");
            File.WriteAllBytes(path, valid[..rng.Next(2, valid.Length)]);
            try
            {
                Idx.Read(path, Idx.ImagesMagic);
            }
            catch (UsageException e)
            {
                Assert.Contains(path, e.Message);
            }
        }
    }

    [Fact]
    public void Cifar10ReadBatch_ArbitraryBytes_OnlyUsageErrors()
    {
        var valid = new byte[Cifar10.RecordSize * 2];
        valid[0] = 3;
        valid[Cifar10.RecordSize] = 7;
        string dir = TestEnvironment.NewTempDir();
        int i = 0;
        foreach (var bytes in Mutations(valid, 3).Take(150))
        {
            string path = Path.Combine(dir, $"b{i++}.bin");
            File.WriteAllBytes(path, bytes);
            try
            {
                var (l, p) = Cifar10.ReadBatch(path);
                Assert.Equal(l.Length * Cifar10.RecordPixels, p.Length);
                Assert.All(l, v => Assert.InRange(v, 0, 9));
            }
            catch (UsageException e)
            {
                Assert.Contains(path, e.Message);
            }
        }
    }

    [Fact]
    public void DropoutConcatCaseParse_ArbitraryText_OnlyUsageErrors()
    {
        string valid =
            "{\"x\": [1, 2], \"b1\": [0.5], \"b2\": [0, 0], \"y\": [1, 0], \"W1\": [[1], [2]], \"W2\": [[1,1],[1,1],[1,1]], "
            + "\"m\": [1,0,1]}";
        var ok = DropoutConcatCase.Parse(valid, "case.json");
        Assert.Equal(2, ok.D);
        byte[] bytes = Encoding.UTF8.GetBytes(valid);
        foreach (var mutated in Mutations(bytes, 4))
        {
            string text = Encoding.UTF8.GetString(mutated);
            try
            {
                DropoutConcatCase.Parse(text, "case.json");
            }
            catch (UsageException e)
            {
                Assert.StartsWith("case.json", e.Message);
            }
        }
    }
}
