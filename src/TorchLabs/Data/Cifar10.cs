namespace TorchLabs.Data;

/// <summary>Images and labels of CIFAR-10 as stored: N records of 3x32x32 bytes, planes R, G, B, each
/// row-major.</summary>
public sealed record Cifar10Set(byte[] Labels, byte[] Pixels)
{
    public int Count => Labels.Length;

    /// <summary>The images as a float32 tensor [N, 3, 32, 32], transformed as the tutorial: ToTensor, Normalize(0.5,
    /// 0.5).</summary>
    public Tensor ImagesTensor(int start = 0, int count = -1)
    {
        if (count < 0)
            count = Count - start;
        using var scope = NewDisposeScope();
        var raw = tensor(
            Pixels.AsSpan(start * Cifar10.RecordPixels, count * Cifar10.RecordPixels).ToArray(),
            [count, 3, 32, 32]
        );
        return Cifar10.Normalize(raw).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Reader of the binary version of CIFAR-10 (folder cifar-10-batches-bin). Each record is one label byte then
/// 3072 pixel bytes: the red, green and blue 32x32 planes, each row-major. Each batch file holds 10,000 records.
/// </summary>
public static class Cifar10
{
    public const int RecordPixels = 3 * 32 * 32;
    public const int RecordSize = 1 + RecordPixels;
    public const string FolderName = "cifar-10-batches-bin";
    public const string Url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
    public const string Md5 = "c32a1d4ab5d03f1284b67883e8d87530";

    /// <summary>The tutorial's short class names, in label order.</summary>
    public static readonly string[] ClassNames =
    [
        "plane",
        "car",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];

    public static readonly string[] TrainFiles = [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")];
    public const string TestFile = "test_batch.bin";

    /// <summary>
    /// The folder holding the batch files: DIR/cifar-10-batches-bin, or DIR itself when the batch files are directly in
    /// it. Null when neither has them.
    /// </summary>
    public static string? Locate(string dataDir)
    {
        foreach (string d in new[] { Path.Combine(dataDir, FolderName), dataDir })
            if (File.Exists(Path.Combine(d, TrainFiles[0])) && File.Exists(Path.Combine(d, TestFile)))
                return d;
        return null;
    }

    /// <summary>Reads the training set (data_batch_1.bin to data_batch_5.bin, in order) or the test set.</summary>
    /// <param name="limit">Read at most this many records (quick runs); null for all.</param>
    public static Cifar10Set Load(string folder, bool train, int? limit = null)
    {
        var plan = Plan(folder, train, limit);
        var labels = new byte[plan.Sum(p => p.Records)];
        var pixels = new byte[(long)labels.Length * RecordPixels];
        Read(plan, labels, pixels);
        return new Cifar10Set(labels, pixels);
    }

    /// <summary>
    /// As <see cref="Load"/>, but the pixels go straight into a uint8 tensor [N, 3, 32, 32] (no managed copy: the
    /// training set is 150 MB as bytes, and each batch is normalised when it is used).
    /// </summary>
    public static (Tensor Pixels, byte[] Labels) LoadTensor(string folder, bool train, int? limit = null)
    {
        var plan = Plan(folder, train, limit);
        var labels = new byte[plan.Sum(p => p.Records)];
        var pixels = empty([labels.Length, 3, 32, 32], ScalarType.Byte);
        Read(plan, labels, pixels.bytes);
        return (pixels, labels);
    }

    /// <summary>Which files to read and how many records of each; a missing batch is an error, not a smaller training
    /// set (unless --limit-train is met by the batches before it).</summary>
    static List<(string Path, int Records)> Plan(string folder, bool train, int? limit)
    {
        string[] files = train ? TrainFiles : [TestFile];
        if (!File.Exists(Path.Combine(folder, files[0])))
            throw new UsageException(
                $"{Path.Combine(folder, files[0])}: no such file; expected the CIFAR-10 binary batches (torchlabs cifar10 ‹download›)"
            );
        var plan = new List<(string, int)>();
        int count = 0;
        foreach (string f in files)
        {
            if (limit is not null && count >= limit)
                break;
            string path = Path.Combine(folder, f);
            if (!File.Exists(path))
                throw new UsageException(
                    $"{path}: no such file; CIFAR-10 has five training batches ({TrainFiles[0]} to {TrainFiles[^1]}); fetch them again with `torchlabs cifar10 ‹download›`, or train on the {count} images before it with ‹limit-train› {count}"
                );
            int n = (int)Math.Min(Records(path), limit is null ? int.MaxValue : limit.Value - count);
            plan.Add((path, n));
            count += n;
        }
        return plan;
    }

    static void Read(List<(string Path, int Records)> plan, byte[] labels, Span<byte> pixels)
    {
        int at = 0;
        foreach (var (path, n) in plan)
        {
            ReadInto(path, n, labels.AsSpan(at, n), pixels.Slice(at * RecordPixels, n * RecordPixels));
            at += n;
        }
    }

    /// <summary>The number of records of a batch file, checking that its size is a whole number of records.</summary>
    static long Records(string path)
    {
        long length;
        using (var f = OpenForReading(path))
            length = f.Length; // the size of what a link points to
        if (length == 0 || length % RecordSize != 0)
            throw new UsageException(
                $"{path}: {length} bytes is not a whole number of CIFAR-10 records of {RecordSize} bytes (1 label + 3072 pixels); the file is truncated or not CIFAR-10 binary"
            );
        return length / RecordSize;
    }

    /// <summary>Reads <paramref name="n"/> records into the destinations, checking every label.</summary>
    static void ReadInto(string path, int n, Span<byte> labels, Span<byte> pixels)
    {
        using var fs = OpenForReading(path);
        var record = new byte[RecordSize];
        for (int i = 0; i < n; i++)
        {
            fs.ReadExactly(record);
            if (record[0] > 9)
                throw new UsageException($"{path}: record {i} has label {record[0]}; expected 0..9");
            labels[i] = record[0];
            record.AsSpan(1).CopyTo(pixels.Slice(i * RecordPixels, RecordPixels));
        }
    }

    /// <summary>Reads up to <paramref name="max"/> records of one batch file, validating size and labels.</summary>
    public static (byte[] Labels, byte[] Pixels) ReadBatch(string path, int max = int.MaxValue)
    {
        if (!File.Exists(path))
            throw new UsageException($"{path}: no such file; expected a CIFAR-10 binary batch");
        int n = (int)Math.Min(Records(path), max);
        var labels = new byte[n];
        var pixels = new byte[(long)n * RecordPixels];
        ReadInto(path, n, labels, pixels);
        return (labels, pixels);
    }

    /// <summary>A batch file, opened through <see cref="InputFile"/>: a regular file, links followed (shared datasets
    /// are often links), a FIFO or device refused.</summary>
    static FileStream OpenForReading(string path) =>
        InputFile.OpenRead(path, Printable.Path(path), "a CIFAR-10 binary batch");

    /// <summary>PyTorch's ToTensor on bytes: x = p/255 in float32, in [0, 1] (TorchVision for .NET divides by
    /// 256).</summary>
    public static Tensor ToTensor(Tensor bytes) => bytes.to_type(ScalarType.Float32).div_(255.0);

    /// <summary>ToTensor then Normalize(mean 0.5, std 0.5) per channel: x = (p/255 - 0.5)/0.5, in [-1, 1]; any shape
    /// (one image [3, 32, 32] or a batch).</summary>
    public static Tensor Normalize(Tensor bytes) => ToTensor(bytes).sub_(0.5).div_(0.5);
}
