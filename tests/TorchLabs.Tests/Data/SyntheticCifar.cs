using TorchLabs.Data;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Data;

/// <summary>
/// Small CIFAR-format folders made by the tests (never the real download): each class is a distinct colour
/// and stripe pattern plus seeded noise, so a net can learn it.
/// </summary>
public static class SyntheticCifar
{
    static readonly int[,] Palette =
    {
        { 200, 40, 40 },
        { 40, 200, 40 },
        { 40, 40, 200 },
        { 200, 200, 40 },
        { 200, 40, 200 },
        { 40, 200, 200 },
        { 120, 120, 120 },
        { 200, 120, 40 },
        { 40, 120, 200 },
        { 120, 40, 120 },
    };

    /// <summary>Writes records in the CIFAR-10 binary format: each a label byte, then its 3,072 pixels (red, green,
    /// blue planes).</summary>
    public static void WriteBatch(string path, byte[] labels, byte[] pixels)
    {
        Assert.Equal(labels.Length * Cifar10.RecordPixels, pixels.Length);
        using var fs = File.Create(path);
        for (int i = 0; i < labels.Length; i++)
        {
            fs.WriteByte(labels[i]);
            fs.Write(pixels, i * Cifar10.RecordPixels, Cifar10.RecordPixels);
        }
    }

    public static (byte[] Labels, byte[] Pixels) Make(int count, int seed)
    {
        var rng = new Random(seed);
        var labels = new byte[count];
        var pixels = new byte[count * Cifar10.RecordPixels];
        for (int n = 0; n < count; n++)
        {
            int c = rng.Next(10);
            labels[n] = (byte)c;
            for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                double baseValue = Palette[c, ch]; // class colour
                double stripe = ((c % 2 == 0 ? x : y) / (2 + c % 3)) % 2 == 0 ? 40 : 0; // class stripes
                double v = baseValue + stripe + rng.Next(-25, 26);
                pixels[n * Cifar10.RecordPixels + ch * 1024 + y * 32 + x] = (byte)Math.Clamp(v, 0, 255);
            }
        }
        return (labels, pixels);
    }

    /// <summary>Writes a cifar-10-batches-bin folder under <paramref name="root"/> with the given train/test
    /// sizes.</summary>
    public static string WriteFolder(string root, int trainPerFile, int test, int seed, int trainFiles = 5)
    {
        string dir = Path.Combine(root, Cifar10.FolderName);
        Directory.CreateDirectory(dir);
        for (int f = 0; f < trainFiles; f++)
        {
            var (l, p) = Make(trainPerFile, seed + f);
            WriteBatch(Path.Combine(dir, Cifar10.TrainFiles[f]), l, p);
        }
        var (tl, tp) = Make(test, seed + 100);
        WriteBatch(Path.Combine(dir, Cifar10.TestFile), tl, tp);
        File.WriteAllLines(
            Path.Combine(dir, "batches.meta.txt"),
            ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        );
        return dir;
    }

    /// <summary>
    /// The set of scripts/golden/cifar10_tutorial.py, bit for bit: labels, the shown class (half the images show a
    /// random class's pattern) and noise from <c>torch.randint</c> on a generator seeded with <paramref name="seed"/>,
    /// in the script's order; each pixel the shown class's colour and stripes plus noise, clamped to [0, 255].
    /// </summary>
    public static (byte[] Labels, byte[] Pixels) FromTorch(int n, ulong seed)
    {
        using var g = new Generator(seed);
        using var scope = NewDisposeScope();
        long[] labels = randint(0, 10, [n], ScalarType.Int64, generator: g).data<long>().ToArray();
        long[] other = randint(0, 10, [n], ScalarType.Int64, generator: g).data<long>().ToArray();
        long[] coin = randint(0, 2, [n], ScalarType.Int64, generator: g).data<long>().ToArray();
        long[] noise = randint(-60, 61, [n, 3, 32, 32], ScalarType.Int64, generator: g).data<long>().ToArray();
        var pixels = new byte[n * Cifar10.RecordPixels];
        for (int k = 0; k < n; k++)
        {
            long c = coin[k] == 0 ? labels[k] : other[k];
            for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                int j = k * Cifar10.RecordPixels + ch * 1024 + y * 32 + x;
                long stripe = ((c % 2 == 0 ? x : y) / (2 + c % 3)) % 2 == 0 ? 40 : 0;
                pixels[j] = (byte)Math.Clamp(Palette[c, ch] + stripe + noise[j], 0, 255);
            }
        }
        return ([.. labels.Select(l => (byte)l)], pixels);
    }

    /// <summary>The golden script's folder: <paramref name="train"/> images from seed 11 in five files, <paramref
    /// name="test"/> from seed 12.</summary>
    public static void WriteTorchFolder(string root, int train, int test)
    {
        string dir = Path.Combine(root, Cifar10.FolderName);
        Directory.CreateDirectory(dir);
        var (labels, pixels) = FromTorch(train, 11);
        int per = train / 5;
        for (int f = 0; f < 5; f++)
            WriteBatch(
                Path.Combine(dir, Cifar10.TrainFiles[f]),
                labels[(f * per)..((f + 1) * per)],
                pixels[(f * per * Cifar10.RecordPixels)..((f + 1) * per * Cifar10.RecordPixels)]
            );
        var (tl, tp) = FromTorch(test, 12);
        WriteBatch(Path.Combine(dir, Cifar10.TestFile), tl, tp);
    }
}
