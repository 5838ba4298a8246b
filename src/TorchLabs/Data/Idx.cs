using System.IO.Compression;

namespace TorchLabs.Data;

/// <summary>An IDX array: its dimensions and its unsigned bytes in row-major order.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    public int Count => Dimensions[0];
}

/// <summary>
/// Reader of the IDX format of MNIST and Fashion-MNIST: a big-endian magic number 0x000008DD (0x08 = unsigned byte, DD
/// = the number of dimensions: 0x03 images, 0x01 labels), DD big-endian 32-bit sizes, then the bytes. Gzipped or raw
/// files. Any other form is a <see cref="UsageException"/> naming the file and what was expected.
/// </summary>
public static class Idx
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads a file, gunzipping it when it starts with the gzip signature.</summary>
    public static IdxArray Read(string path, int expectedMagic)
    {
        if (!File.Exists(path))
            throw new UsageException($"{path}: no such file; expected an IDX file");
        byte[] bytes;
        try
        {
            bytes = Decompressed(path);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"{path}: corrupt gzip data ({e.Message})");
        }
        catch (IOException e)
        {
            throw new UsageException($"{path}: cannot read: {e.Message}");
        }
        return Parse(bytes, path, expectedMagic);
    }

    /// <summary>The most bytes an IDX file may have on disk (MNIST's largest, the training images, is 47 MB
    /// unzipped).</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>The file's content, gunzipped when it is gzip (magic 1f 8b).</summary>
    public static byte[] Decompressed(string path)
    {
        byte[] raw;
        using (var f = InputFile.OpenRead(path, Printable.Path(path), "an IDX file (gzip or raw)"))
        {
            if (f.Length > MaxFileBytes)
                throw new UsageException(
                    $"{Printable.Path(path)}: {f.Length:N0} bytes, more than an IDX file here may have"
                );
            raw = new byte[f.Length];
            f.ReadExactly(raw);
        }
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
            return raw;
        using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Parses IDX bytes; <paramref name="source"/> names them in errors.</summary>
    public static IdxArray Parse(byte[] b, string source, int expectedMagic)
    {
        string kind =
            expectedMagic == ImagesMagic ? "images (magic 0x00000803)"
            : expectedMagic == LabelsMagic ? "labels (magic 0x00000801)"
            : $"magic 0x{expectedMagic:X8}";
        if (b.Length < 4)
            throw new UsageException($"{source}: {b.Length} bytes is too short for an IDX header; expected IDX {kind}");
        int magic = BigEndian(b, 0);
        if (magic != expectedMagic)
            throw new UsageException($"{source}: magic number 0x{magic:X8}; expected IDX {kind}");
        int dims = magic & 0xff;
        if (b.Length < 4 + 4 * dims)
            throw new UsageException($"{source}: truncated header: {b.Length} bytes for {dims} dimension sizes");
        var sizes = new int[dims];
        long total = 1;
        for (int i = 0; i < dims; i++)
        {
            sizes[i] = BigEndian(b, 4 + 4 * i);
            if (sizes[i] <= 0)
                throw new UsageException($"{source}: dimension {i} has size {sizes[i]}; expected a positive size");
            total *= sizes[i];
            if (total > int.MaxValue)
                throw new UsageException($"{source}: dimensions {string.Join("×", sizes.Take(i + 1))} are too large");
        }
        long expected = 4 + 4L * dims + total;
        if (b.Length < expected)
            throw new UsageException(
                $"{source}: truncated: {b.Length} bytes, expected {expected} for {string.Join("×", sizes)} values"
            );
        if (b.Length > expected)
            throw new UsageException(
                $"{source}: {b.Length - expected} bytes of trailing data after {string.Join("×", sizes)} values"
            );
        return new IdxArray(sizes, b.AsSpan(4 + 4 * dims, (int)total).ToArray());
    }

    /// <summary>Writes an IDX file (raw, or gzipped when the name ends in .gz); tests and tools use it.</summary>
    public static void Write(string path, int magic, int[] dims, byte[] data)
    {
        using var ms = new MemoryStream();
        void Int(int v)
        {
            ms.WriteByte((byte)(v >> 24));
            ms.WriteByte((byte)(v >> 16));
            ms.WriteByte((byte)(v >> 8));
            ms.WriteByte((byte)v);
        }
        Int(magic);
        foreach (int d in dims)
            Int(d);
        ms.Write(data);
        byte[] bytes = ms.ToArray();
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var outMs = new MemoryStream();
            using (var gz = new GZipStream(outMs, CompressionLevel.Fastest, leaveOpen: true))
                gz.Write(bytes);
            bytes = outMs.ToArray();
        }
        AtomicFile.WriteAllBytes(path, bytes);
    }

    static int BigEndian(byte[] b, int o) => b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3];
}
