using TorchLabs.Data;

namespace TorchLabs.Tests.Data;

/// <summary>
/// Small CIFAR-format folders made by the tests (never the real download): each class is a distinct colour
/// and stripe pattern plus seeded noise, so a net can learn it.
/// </summary>
public static class SyntheticCifar
{
    static readonly int[,] Palette =
    {
        { 200, 40, 40 }, { 40, 200, 40 }, { 40, 40, 200 }, { 200, 200, 40 }, { 200, 40, 200 },
        { 40, 200, 200 }, { 120, 120, 120 }, { 200, 120, 40 }, { 40, 120, 200 }, { 120, 40, 120 },
    };

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
                        double baseValue = Palette[c, ch];                                      // class colour
                        double stripe = ((c % 2 == 0 ? x : y) / (2 + c % 3)) % 2 == 0 ? 40 : 0;  // class stripes
                        double v = baseValue + stripe + rng.Next(-25, 26);
                        pixels[n * Cifar10.RecordPixels + ch * 1024 + y * 32 + x] = (byte)Math.Clamp(v, 0, 255);
                    }
        }
        return (labels, pixels);
    }

    /// <summary>Writes a cifar-10-batches-bin folder under <paramref name="root"/> with the given train/test sizes.</summary>
    public static string WriteFolder(string root, int trainPerFile, int test, int seed, int trainFiles = 5)
    {
        string dir = Path.Combine(root, Cifar10.FolderName);
        Directory.CreateDirectory(dir);
        for (int f = 0; f < trainFiles; f++)
        {
            var (l, p) = Make(trainPerFile, seed + f);
            Cifar10.WriteBatch(Path.Combine(dir, Cifar10.TrainFiles[f]), l, p);
        }
        var (tl, tp) = Make(test, seed + 100);
        Cifar10.WriteBatch(Path.Combine(dir, Cifar10.TestFile), tl, tp);
        File.WriteAllLines(Path.Combine(dir, "batches.meta.txt"), ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
            "ship", "truck"]);
        return dir;
    }
}
