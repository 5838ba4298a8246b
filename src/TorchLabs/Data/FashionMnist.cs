using System.Security.Cryptography;

namespace TorchLabs.Data;

/// <summary>Images (N × 28 × 28 bytes) and labels of an MNIST-style dataset.</summary>
public sealed record ImageSet(byte[] Pixels, byte[] Labels, int Rows, int Cols)
{
    public int Count => Labels.Length;
    public int PixelsPerImage => Rows * Cols;

    public ImageSet Take(int n)
    {
        n = Math.Min(n, Count);
        return new ImageSet(Pixels[..(n * PixelsPerImage)], Labels[..n], Rows, Cols);
    }
}

/// <summary>Where the four files were found, and whether their content was checked against known MD5s.</summary>
public sealed record MnistLocation(string Folder, string Source, bool Verified);

/// <summary>
/// Fashion-MNIST (and MNIST) from IDX files. Looked for in --data, then DATA/fashion-mnist, then the folder of Debian's
/// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist, re-compressed by Debian: the decompressed content
/// is checked against its known MD5s), then downloaded from the publisher's mirror with --download (MD5 of the .gz
/// checked).
/// </summary>
public static class FashionMnist
{
    public static readonly string[] ClassNames =
    [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];
    public static readonly string[] DigitNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>The four IDX files, by their names without .gz.</summary>
    public static readonly string[] Files =
    [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];

    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";
    public const string Mirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    /// <summary>MD5 of the decompressed content (Debian re-compressed the files, so their .gz differ from the
    /// publisher's).</summary>
    public static readonly Dictionary<string, string> ContentMd5 = new()
    {
        ["train-images-idx3-ubyte"] = "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        ["train-labels-idx1-ubyte"] = "9018921c3c673c538a1fc5bad174d6f9",
        ["t10k-images-idx3-ubyte"] = "8181f5470baa50b63fa0f6fddb340f0a",
        ["t10k-labels-idx1-ubyte"] = "15d484375f8d13e6eb1aabb0c3f46965",
    };

    /// <summary>MD5 of the publisher's .gz files.</summary>
    public static readonly Dictionary<string, string> GzMd5 = new()
    {
        ["train-images-idx3-ubyte"] = "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ["train-labels-idx1-ubyte"] = "25c81989df183df01b3e8a0aad5dffbe",
        ["t10k-images-idx3-ubyte"] = "bef4ecab320f06d8554ea6380940ec79",
        ["t10k-labels-idx1-ubyte"] = "bb300cfdad3c16e7a12a480ee83cd310",
    };

    /// <summary>The path of a file in a folder, gzipped or raw; null when neither exists.</summary>
    public static string? FileIn(string folder, string name) =>
        new[] { Path.Combine(folder, name + ".gz"), Path.Combine(folder, name) }.FirstOrDefault(File.Exists);

    static bool HasAll(string folder) => Files.All(f => FileIn(folder, f) is not null);

    /// <summary>The folders searched, in order, for a dataset (fashion-mnist or mnist).</summary>
    public static IEnumerable<(string Folder, string Source)> Candidates(string dataDir, string dataset)
    {
        // Named by the folder itself: the text goes into the lab's output as it is, where a setting's marker would show
        // raw.
        yield return (dataDir, Runtime.Printable.Path(dataDir));
        yield return (Path.Combine(dataDir, dataset), Runtime.Printable.Path(Path.Combine(dataDir, dataset)));
        if (dataset == "fashion-mnist")
            yield return (DebianFolder, "Debian package dataset-fashion-mnist");
    }

    public static MnistLocation? Locate(string dataDir, string dataset = "fashion-mnist")
    {
        foreach (var (folder, source) in Candidates(dataDir, dataset))
            if (HasAll(folder))
                return new MnistLocation(folder, source, false);
        return null;
    }

    /// <summary>Checks the decompressed content of the four files against the known MD5s (Fashion-MNIST
    /// only).</summary>
    public static void Verify(MnistLocation location)
    {
        foreach (string f in Files)
        {
            string path = FileIn(location.Folder, f)!;
            string md5 = Convert.ToHexStringLower(MD5.HashData(Idx.Decompressed(path)));
            if (md5 != ContentMd5[f])
                throw new UsageException(
                    $"{path}: content MD5 {md5}, expected {ContentMd5[f]} for Fashion-MNIST's {f}; the file is corrupt or not Fashion-MNIST"
                );
        }
    }

    /// <summary>The side of an MNIST or Fashion-MNIST image, in pixels.</summary>
    public const int Side = 28;

    /// <summary>Loads the training or test set (28 × 28 images, labels 0..9; anything else is bad input naming the
    /// file).</summary>
    public static ImageSet Load(MnistLocation location, bool train)
    {
        string prefix = train ? "train" : "t10k";
        var images = Idx.Read(FileIn(location.Folder, $"{prefix}-images-idx3-ubyte")!, Idx.ImagesMagic);
        var labels = Idx.Read(FileIn(location.Folder, $"{prefix}-labels-idx1-ubyte")!, Idx.LabelsMagic);
        if (images.Dimensions.Length != 3)
            throw new UsageException(
                $"{location.Folder}: {prefix} images have {images.Dimensions.Length} dimensions; expected N × rows × cols"
            );
        if (labels.Dimensions.Length != 1 || labels.Count != images.Count)
            throw new UsageException(
                $"{location.Folder}: {labels.Count} {prefix} labels for {images.Count} images; expected one label per image"
            );
        if (labels.Data.Any(l => l > 9))
            throw new UsageException($"{location.Folder}: a {prefix} label is above 9; expected classes 0..9");
        // Rows and columns each, not only their product (14 × 56 has 784 pixels too): MNIST and Fashion-MNIST are 28 ×
        // 28.
        if (images.Dimensions[1] != Side || images.Dimensions[2] != Side)
            throw new UsageException(
                $"{FileIn(location.Folder, $"{prefix}-images-idx3-ubyte")}: images of {images.Dimensions[1]} × "
                    + $"{images.Dimensions[2]} pixels; expected {Side} × {Side}"
            );
        return new ImageSet(images.Data, labels.Data, images.Dimensions[1], images.Dimensions[2]);
    }

    /// <summary>Downloads the four .gz files from the publisher's mirror into DATA/fashion-mnist, checking each
    /// MD5.</summary>
    public static MnistLocation Download(
        string dataDir,
        IProgress<DownloadProgress>? progress = null,
        string mirror = Mirror
    )
    {
        string folder = Path.Combine(dataDir, "fashion-mnist");
        Directory.CreateDirectory(folder);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        foreach (string f in Files)
        {
            string target = Path.Combine(folder, f + ".gz");
            if (File.Exists(target) && Downloader.Md5Of(target) == GzMd5[f])
                continue;
            string tmp = target + ".download";
            try
            {
                Downloader.DownloadAsync(http, mirror + f + ".gz", tmp, progress).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                if (File.Exists(tmp))
                    File.Delete(tmp);
                throw new LabFailedException(
                    $"cannot download {mirror}{f}.gz: {e.Message}; install Debian's dataset-fashion-mnist instead (apt-get install dataset-fashion-mnist)"
                );
            }
            string md5 = Downloader.Md5Of(tmp);
            if (md5 != GzMd5[f])
            {
                File.Delete(tmp);
                throw new LabFailedException(
                    $"{mirror}{f}.gz: checksum mismatch: MD5 {md5}, expected {GzMd5[f]}; the download was deleted"
                );
            }
            File.Move(tmp, target, overwrite: true);
        }
        return new MnistLocation(folder, "download", true);
    }
}
