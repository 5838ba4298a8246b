namespace TorchLabs.Checkpoints;

/// <summary>
/// Checkpoint files: a magic and a version, the length of the body, the body (the kind, then whatever the lab writes:
/// epochs done, curves, generator state, model and optimizer state), and the SHA-256 of the body. A flipped byte, a
/// truncated file or bytes appended are refused on reading. Written to a temporary name and renamed, so a checkpoint on
/// disk is always complete.
/// </summary>
public static class Checkpoint
{
    const string Magic = "TORCHLABS-CHECKPOINT";
    const int Version = 2;
    const int HashBytes = 32;

    public static void Save(string path, string kind, Action<BinaryWriter> write) => AtomicFile.Write(path, tmp =>
        {
            using var body = new MemoryStream();
            using (var bw = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                bw.Write(kind);
                write(bw);
            }
            using var fs = File.Create(tmp);
            using var w = new BinaryWriter(fs);
            w.Write(Magic);
            w.Write(Version);
            w.Write(body.Length);
            w.Write(body.GetBuffer(), 0, (int)body.Length);
            w.Write(System.Security.Cryptography.SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length)));
        });

    /// <summary>
    /// The most bytes a checkpoint may have (the labs' are megabytes; a link to /dev/zero or a 3 GB file is refused
    /// unread).
    /// </summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>The checkpoint's bytes, opened through <see cref="InputFile"/> (a regular file, links followed: a FIFO
    /// would block forever, a device would be read without end) and refused unread when its target is larger than <see
    /// cref="MaxBytes"/>.</summary>
    static byte[] ReadWhole(string path)
    {
        using var f = InputFile.OpenRead(path, $"‹resume› {Printable.Path(path)}", "a TorchLabs checkpoint");
        if (f.Length > MaxBytes)
            throw new UsageException(
                $"‹resume› {Printable.Path(path)}: {f.Length:N0} bytes, more than a checkpoint may have ({MaxBytes:N0})"
            );
        var all = new byte[f.Length];
        f.ReadExactly(all);
        return all;
    }

    /// <summary>
    /// Reads a checkpoint of <paramref name="kind"/>: the length and checksum are verified before anything is used; any
    /// mismatch, another kind or version is a <see cref="UsageException"/> naming the file (and never echoing the
    /// file's bytes).
    /// </summary>
    public static T Load<T>(string path, string kind, Func<BinaryReader, T> read)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new UsageException($"‹resume›: no checkpoint at {Printable.Path(path)}; run without ‹resume› first");
        try
        {
            byte[] all = ReadWhole(path);
            using var head = new BinaryReader(new MemoryStream(all));
            if (head.ReadString() != Magic)
                throw new UsageException($"{path}: not a TorchLabs checkpoint");
            int version = head.ReadInt32();
            if (version != Version)
                throw new UsageException(
                    $"{path}: checkpoint version {version}; this build reads version {Version} (start again without ‹resume›)"
                );
            long length = head.ReadInt64();
            long start = head.BaseStream.Position;
            if (length < 0 || start + length + HashBytes != all.Length)
                throw new UsageException(
                    $"{path}: corrupt or truncated checkpoint: {all.Length} bytes on disk where the header says {start + Math.Max(length, 0) + HashBytes}"
                );
            var body = all.AsSpan((int)start, (int)length);
            if (
                !System
                    .Security.Cryptography.SHA256.HashData(body)
                    .AsSpan()
                    .SequenceEqual(all.AsSpan((int)(start + length), HashBytes))
            )
                throw new UsageException(
                    $"{path}: corrupt or truncated checkpoint: its SHA-256 checksum does not match its contents"
                );
            using var r = new BinaryReader(new MemoryStream(all, (int)start, (int)length));
            string k = r.ReadString();
            if (k != kind)
                throw new UsageException(
                    $"{path}: a checkpoint of another run ({(k.All(c => c >= ' ' && c < 127) ? k : "unreadable kind")}); expected {kind}"
                );
            return read(r);
        }
        catch (Exception e)
            when (e
                    is EndOfStreamException
                        or IOException
                        or FormatException
                        or ArgumentException
                        or System.Runtime.InteropServices.ExternalException
            )
        {
            throw new UsageException(
                $"{path}: corrupt or truncated checkpoint ({e.GetType().Name}"
                    + (e is FormatException ? $": {Printable.Escape(e.Message)})" : ")")
            );
        }
    }

    public static void WriteDoubles(BinaryWriter w, IReadOnlyList<double> values)
    {
        w.Write(values.Count);
        foreach (double v in values)
            w.Write(v);
    }

    public static double[] ReadDoubles(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0)
            throw new FormatException("negative length");
        // A count is checked against the bytes left before anything is allocated (a crafted 2³¹ − 1 would ask for 16
        // GiB).
        if (!FitsInRest(r, (long)n * sizeof(double)))
            throw new FormatException($"a list of {n} numbers is longer than the rest of the file");
        var a = new double[n];
        for (int i = 0; i < n; i++)
            a[i] = r.ReadDouble();
        return a;
    }

    /// <summary>A tensor as dtype, shape and raw bytes (exact).</summary>
    public static void WriteTensor(BinaryWriter w, Tensor t)
    {
        var c = t.detach().cpu().contiguous();
        w.Write((int)c.dtype);
        w.Write(c.shape.Length);
        foreach (long d in c.shape)
            w.Write(d);
        byte[] bytes = c.bytes.ToArray();
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    public static Tensor ReadTensor(BinaryReader r)
    {
        var dtype = (ScalarType)r.ReadInt32();
        int rank = r.ReadInt32();
        if (rank < 0 || rank > 16)
            throw new FormatException("bad tensor rank");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
            shape[i] = r.ReadInt64();
        int n = r.ReadInt32();
        if (n < 0)
            throw new FormatException("a negative tensor size");
        if (!FitsInRest(r, n))
            throw new FormatException($"a tensor of {n} bytes is longer than the rest of the file");
        byte[] bytes = r.ReadBytes(n);
        if (bytes.Length != n)
            throw new EndOfStreamException();
        // The shape's size checked against the bytes before anything is allocated (a crafted shape asked for
        // gigabytes).
        if (
            !Enum.IsDefined(dtype)
            || shape.Any(d => d < 0)
            || shape.Aggregate(1.0, (a, d) => a * d) * ElementSize(dtype) != n
        )
            throw new FormatException("a tensor whose shape and type do not match its size");
        var t = empty(shape, dtype);
        if (t.bytes.Length != n)
            throw new FormatException("tensor size does not match its shape");
        t.bytes = bytes;
        return t;
    }

    /// <summary>Whether <paramref name="bytes"/> declared by the file are still there to read (checked before anything
    /// is allocated for them; a stream that cannot tell is read and fails at its end).</summary>
    static bool FitsInRest(BinaryReader r, long bytes) =>
        !r.BaseStream.CanSeek || bytes <= r.BaseStream.Length - r.BaseStream.Position;

    /// <summary><see cref="BinaryReader.ReadString"/> with its declared length checked against the bytes left first
    /// (BinaryReader reserves the declared length, up to 2³¹ characters, before reading).</summary>
    public static string ReadString(BinaryReader r)
    {
        int bytes = r.Read7BitEncodedInt();
        if (bytes < 0 || !FitsInRest(r, bytes))
            throw new FormatException($"a text of {bytes} bytes is longer than the rest of the file");
        byte[] utf8 = r.ReadBytes(bytes);
        if (utf8.Length != bytes)
            throw new EndOfStreamException();
        return System.Text.Encoding.UTF8.GetString(utf8);
    }

    /// <summary>Bytes per element of the dtypes a checkpoint holds (the generator's state is bytes); 0 for any
    /// other.</summary>
    static int ElementSize(ScalarType t) =>
        t switch
        {
            ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
            ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
            ScalarType.Int32 or ScalarType.Float32 => 4,
            ScalarType.Int64 or ScalarType.Float64 => 8,
            _ => 0,
        };
}
