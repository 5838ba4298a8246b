using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace TorchLabs.Models;

/// <summary>A storage a .pth file declares: its key, element type and element count (no data read yet).</summary>
public sealed record PthStorage(string Key, ScalarType Type, int ElementSize, long Count);

/// <summary>A tensor a .pth file declares: a strided view of a storage, as <c>torch._utils._rebuild_tensor_v2</c>
/// describes it.</summary>
public sealed record PthTensor(PthStorage Storage, long Offset, long[] Shape, long[] Stride)
{
    /// <summary>The storage elements the view reaches: offset + Σ (size − 1)·stride + 1 (0 for an empty
    /// tensor).</summary>
    public long Extent
    {
        get
        {
            if (Shape.Any(n => n == 0))
                return 0;
            try
            {
                return checked(Offset + Shape.Zip(Stride, (n, s) => (n - 1) * s).Sum() + 1);
            }
            catch (OverflowException)
            {
                return long.MaxValue;
            }
        }
    }
}

/// <summary>
/// PyTorch's .pth files read in two steps, so that nothing is allocated from what a file merely declares: <see
/// cref="Open"/> reads only the pickle (a restricted interpreter that builds plain values and never calls anything:
/// only collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the torch.*Storage types are
/// allowed as globals, every other global — os.system, builtins.eval, … — is refused by name), giving the state dict's
/// keys, shapes, strides and storage sizes; the caller checks them; then <see cref="Materialize"/> reads each storage
/// once and makes every tensor as PyTorch does, as a strided view of it (so transposed, stride-0 and offset views load
/// as in PyTorch). Both formats of torch.save: the zip archive (1.6 and later: archive/data.pkl and archive/data/KEY)
/// and the legacy stream (magic number, protocol, system info, the pickle, the storage keys, then each storage as an
/// int64 count and its bytes).
/// </summary>
public sealed class PthFile : IDisposable
{
    /// <summary>A dictionary as the pickle builds it: keys in order.</summary>
    public sealed class Dict : List<KeyValuePair<object, object?>>;

    readonly FileStream stream;
    readonly ZipArchive? zip;
    readonly string prefix = "";
    readonly Dictionary<string, long> legacyOffsets = [];
    readonly Dictionary<string, PthStorage> storages = [];

    /// <summary>The unpickled top-level object: a state dict (<see cref="Dict"/> of key → <see cref="PthTensor"/>) or a
    /// checkpoint dict holding one.</summary>
    public object? Root { get; }

    PthFile(FileStream stream)
    {
        this.stream = stream;
        var head = new byte[4];
        int n = stream.Read(head);
        stream.Position = 0;
        if (n == 4 && head[0] == 0x50 && head[1] == 0x4B && head[2] == 3 && head[3] == 4)
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var pkl = zip.Entries.FirstOrDefault(e =>
                e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName == "data.pkl"
            ) ?? throw new FormatException("a zip archive without data.pkl: not a torch.save file");
            prefix = pkl.FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "byteorder") is { } order)
            {
                using var r = new StreamReader(order.Open());
                if (r.ReadToEnd().Trim() != "little")
                    throw new FormatException("big-endian .pth files are not supported");
            }
            if (pkl.Length > 100_000_000)
                throw new FormatException($"data.pkl declares {pkl.Length} bytes");
            using var s = pkl.Open();
            var u = new Unpickler(s, this);
            Root = u.Load();
            PickleOperations = u.Operations;
        }
        else
        {
            // torch.save(..., _use_new_zipfile_serialization=False): five pickles in a row, then the storages.
            var u = new Unpickler(stream, this);
            if (u.Load() is not System.Numerics.BigInteger magic || magic != LegacyMagic)
                throw new FormatException("neither a zip archive nor PyTorch's legacy format (no magic number)");
            if (u.Load() is not long protocol || protocol != 1001)
                throw new FormatException("legacy format: unknown protocol version");
            u.Load(); // system info: byte order and sizes
            Root = u.Load();
            if (u.Load() is not List<object?> keys)
                throw new FormatException("legacy format: no list of storage keys");
            foreach (var key in keys.Cast<string>())
            {
                if (!storages.TryGetValue(key, out var st))
                    throw new FormatException($"legacy format: storage {Printable.Quote(key)} is used by no tensor");
                var count = new byte[8];
                stream.ReadExactly(count);
                if (BitConverter.ToInt64(count) != st.Count)
                    throw new FormatException(
                        $"storage {Printable.Quote(key)} holds {BitConverter.ToInt64(count)} elements; the pickle says "
                            + st.Count
                    );
                legacyOffsets[key] = stream.Position;
                if (stream.Length - stream.Position < st.Count * st.ElementSize)
                    throw new FormatException($"storage {Printable.Quote(key)} runs past the end of the file");
                stream.Position += st.Count * st.ElementSize;
            }
            PickleOperations = u.Operations;
        }
    }

    /// <summary>
    /// The most pickle operations one file may run, over all its pickles (the legacy format has five): 200,000. Each
    /// builds at most one object or one container slot, so what a file can make the reader build stays under about 50
    /// MB, and a file refused is refused in well under a second. A state dict needs a few per tensor: the tutorial
    /// Net's about 300 (tests/…/Models/PthFileBudgetTests measure it), a budget of over 600 times that.
    /// </summary>
    public const long MaxPickleOperations = 200_000;

    /// <summary>How many pickle operations reading this file ran.</summary>
    public long PickleOperations { get; }

    /// <summary>The first pickle of the legacy format (torch/serialization.py, MAGIC_NUMBER).</summary>
    static readonly System.Numerics.BigInteger LegacyMagic = System.Numerics.BigInteger.Parse(
        "0" + "1950a86a20f9469cfc6c",
        System.Globalization.NumberStyles.HexNumber
    );

    /// <summary>Reads the pickle of the file open as <paramref name="stream"/> (no tensor data); bad files throw
    /// <see cref="FormatException"/>.</summary>
    public static PthFile Open(FileStream stream) => new(stream);

    /// <summary>The bytes a storage's data really takes in the file (zip: the entry's declared size; legacy: count ×
    /// size).</summary>
    public long DeclaredBytes(PthStorage s)
    {
        if (zip is null)
            return s.Count * s.ElementSize;
        var entry = zip.GetEntry(prefix + "data/" + s.Key)
            ?? throw new FormatException($"no data for storage {Printable.Quote(s.Key)}");
        return entry.Length;
    }

    /// <summary>The tensors of <paramref name="state"/> with data: each storage read once (checked against its declared
    /// size), each tensor a strided view of it as <c>_rebuild_tensor_v2</c> makes it.</summary>
    public Dictionary<string, Tensor> Materialize(IEnumerable<KeyValuePair<string, PthTensor>> state)
    {
        var read = new Dictionary<string, Tensor>();
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, t) in state)
        {
            if (!read.TryGetValue(t.Storage.Key, out var flat))
                read[t.Storage.Key] = flat = ReadStorage(t.Storage);
            result[key] = flat.as_strided(t.Shape, t.Stride, t.Offset);
        }
        return result;
    }

    /// <summary>One storage's bytes straight into a tensor of its element type (no copy in between).</summary>
    Tensor ReadStorage(PthStorage s)
    {
        long bytes = s.Count * s.ElementSize;
        var flat = empty([s.Count], s.Type);
        if (zip is not null)
        {
            var entry = zip.GetEntry(prefix + "data/" + s.Key)!;
            if (entry.Length != bytes)
                throw new FormatException(
                    $"storage {Printable.Quote(s.Key)} has {entry.Length} bytes; its {s.Count} elements take {bytes}"
                );
            using var es = entry.Open();
            flat.ReadBytesFromStream(es, 1 << 16);
        }
        else
        {
            stream.Position = legacyOffsets.TryGetValue(s.Key, out long at)
                ? at
                : throw new FormatException("storage not found");
            flat.ReadBytesFromStream(stream, 1 << 16);
        }
        return flat;
    }

    public void Dispose() => zip?.Dispose();

    /// <summary>The storage types torch.save names (GLOBAL torch FloatStorage …) and their element types.</summary>
    static readonly Dictionary<string, (ScalarType Type, int Size)> StorageTypes = new()
    {
        ["FloatStorage"] = (ScalarType.Float32, 4),
        ["DoubleStorage"] = (ScalarType.Float64, 8),
        ["HalfStorage"] = (ScalarType.Float16, 2),
        ["BFloat16Storage"] = (ScalarType.BFloat16, 2),
        ["LongStorage"] = (ScalarType.Int64, 8),
        ["IntStorage"] = (ScalarType.Int32, 4),
        ["ShortStorage"] = (ScalarType.Int16, 2),
        ["CharStorage"] = (ScalarType.Int8, 1),
        ["ByteStorage"] = (ScalarType.Byte, 1),
        ["BoolStorage"] = (ScalarType.Bool, 1),
    };

    sealed record Global(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    sealed class Mark;

    /// <summary>
    /// The pickle opcodes torch.save emits (protocols 2 to 5), interpreted into plain values: None, bool, long, double,
    /// string, byte[], List (list), object?[] (tuple), <see cref="Dict"/>, <see cref="PthStorage"/>, <see
    /// cref="PthTensor"/>. Nothing is looked up or called: GLOBAL yields a name, REDUCE knows four callables and
    /// refuses the rest.
    /// </summary>
    sealed class Unpickler(Stream s, PthFile file)
    {
        readonly BinaryReader r = new(s, Encoding.UTF8, leaveOpen: true);
        readonly Dictionary<long, object?> memo = [];
        readonly List<object?> stack = [];
        readonly Stack<int> marks = new();
        long operations;

        public long Operations => operations;

        /// <summary>Runs the pickle's opcodes to STOP and returns the value it leaves. Each pickle starts with an empty
        /// stack and no marks (the legacy format reads several from one stream).</summary>
        public object? Load()
        {
            stack.Clear();
            marks.Clear();
            while (true)
            {
                if (++operations > MaxPickleOperations)
                    throw new FormatException(
                        $"the pickle runs more than {MaxPickleOperations} operations, more than a state dict needs"
                    );
                byte op = r.ReadByte();
                // One line per opcode (a table, laid out by hand).
                // csharpier-ignore
                switch (op)
                {
                    case 0x80: r.ReadByte(); break;                                 // PROTO
                    case 0x95: r.ReadInt64(); break;                                // FRAME
                    case (byte)'.': return Pop();                                   // STOP
                    case (byte)'(': marks.Push(stack.Count); break;                 // MARK
                    case (byte)'N': stack.Add(null); break;                         // NONE
                    case 0x88: stack.Add(true); break;                              // NEWTRUE
                    case 0x89: stack.Add(false); break;                             // NEWFALSE
                    case (byte)'J': stack.Add((long)r.ReadInt32()); break;          // BININT
                    case (byte)'K': stack.Add((long)r.ReadByte()); break;           // BININT1
                    case (byte)'M': stack.Add((long)r.ReadUInt16()); break;         // BININT2
                    case 0x8a: stack.Add(Long1(r.ReadByte())); break;               // LONG1
                    case (byte)'G': stack.Add(BigEndianDouble()); break;            // BINFLOAT
                    case (byte)'X': stack.Add(Text(r.ReadUInt32())); break;         // BINUNICODE
                    case 0x8c: stack.Add(Text(r.ReadByte())); break;                // SHORT_BINUNICODE
                    case 0x8d: stack.Add(Text(r.ReadUInt64())); break;              // BINUNICODE8
                    case (byte)'T': stack.Add(Text(r.ReadUInt32())); break;         // BINSTRING
                    case (byte)'U': stack.Add(Text(r.ReadByte())); break;           // SHORT_BINSTRING
                    case (byte)'B': stack.Add(Bytes(r.ReadUInt32())); break;        // BINBYTES
                    case (byte)'C': stack.Add(Bytes(r.ReadByte())); break;          // SHORT_BINBYTES
                    case (byte)'}': stack.Add(new Dict()); break;                   // EMPTY_DICT
                    case (byte)']': stack.Add(new List<object?>()); break;          // EMPTY_LIST
                    case (byte)')': stack.Add(Array.Empty<object?>()); break;       // EMPTY_TUPLE
                    case (byte)'t': stack.Add(PopMark().ToArray()); break;          // TUPLE
                    case 0x85: stack.Add(PopTuple(1)); break;                       // TUPLE1
                    case 0x86: stack.Add(PopTuple(2)); break;                       // TUPLE2
                    case 0x87: stack.Add(PopTuple(3)); break;                       // TUPLE3
                    case (byte)'l': stack.Add(PopMark()); break;                    // LIST
                    case (byte)'d': stack.Add(Pairs(new Dict(), PopMark())); break; // DICT
                    case (byte)'a': Append(); break;                                // APPEND
                    case (byte)'e': Appends(); break;                               // APPENDS
                    case (byte)'s': SetItem(); break;                               // SETITEM
                    case (byte)'u': SetItems(); break;                              // SETITEMS
                    case (byte)'q': memo[r.ReadByte()] = stack[^1]; break;          // BINPUT
                    case (byte)'r': memo[r.ReadUInt32()] = stack[^1]; break;        // LONG_BINPUT
                    case 0x94: memo[memo.Count] = stack[^1]; break;                 // MEMOIZE
                    case (byte)'h': stack.Add(Memo(r.ReadByte())); break;           // BINGET
                    case (byte)'j': stack.Add(Memo(r.ReadUInt32())); break;         // LONG_BINGET
                    case (byte)'c': stack.Add(Allowed(Line(), Line())); break;      // GLOBAL
                    case 0x93: stack.Add(StackGlobal()); break;                     // STACK_GLOBAL
                    case (byte)'Q': stack.Add(Storage(Pop())); break;               // BINPERSID
                    case (byte)'R': stack.Add(ReduceTop()); break;                  // REDUCE
                    case (byte)'b': Pop(); break;                                   // BUILD (an OrderedDict's metadata)
                    case (byte)'0': Pop(); break;                                   // POP
                    case (byte)'1': PopMark(); break;                               // POP_MARK
                    case (byte)'2': stack.Add(stack[^1]); break;                    // DUP
                    default:
                        throw new FormatException(
                            $"pickle opcode 0x{op:x2} is not one torch.save writes for a state dict; refused (nothing was run)");
                }
            }
        }

        object? Pop()
        {
            var v = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return v;
        }

        List<object?> PopMark()
        {
            int m = marks.Count > 0 ? marks.Pop() : throw new FormatException("pickle: no MARK");
            var items = stack.GetRange(m, stack.Count - m);
            stack.RemoveRange(m, stack.Count - m);
            return items;
        }

        /// <summary>The top <paramref name="n"/> values as a tuple, in the order they were pushed.</summary>
        object?[] PopTuple(int n)
        {
            var items = new object?[n];
            for (int i = n - 1; i >= 0; i--)
                items[i] = Pop();
            return items;
        }

        double BigEndianDouble() => BinaryPrimitives.ReadDoubleBigEndian(r.ReadBytes(8));

        void Append()
        {
            var v = Pop();
            AsList(stack[^1]).Add(v);
        }

        void Appends()
        {
            var items = PopMark();
            AsList(stack[^1]).AddRange(items);
        }

        void SetItem()
        {
            var v = Pop();
            var k = Pop();
            AsDict(stack[^1]).Add(new(k!, v));
        }

        void SetItems()
        {
            var items = PopMark();
            Pairs(AsDict(stack[^1]), items);
        }

        object? StackGlobal()
        {
            var name = Pop();
            return Allowed(Pop() as string ?? "", name as string ?? "");
        }

        object? ReduceTop()
        {
            var args = Pop();
            return Reduce(Pop(), args as object?[]);
        }

        static Dict Pairs(Dict d, List<object?> items)
        {
            for (int i = 0; i + 1 < items.Count; i += 2)
                d.Add(new(items[i] ?? throw new FormatException("a dict key None"), items[i + 1]));
            return d;
        }

        object? Memo(long k) =>
            memo.TryGetValue(k, out var v) ? v : throw new FormatException($"pickle refers to memo {k}, never stored");

        static List<object?> AsList(object? o) =>
            o as List<object?> ?? throw new FormatException("APPEND to something not a list");

        static Dict AsDict(object? o) => o as Dict ?? throw new FormatException("SETITEM on something not a dict");

        /// <summary>LONG1: a little-endian two's-complement integer of n bytes; a long, or a BigInteger beyond 8 bytes
        /// (the legacy format's magic number has 10).</summary>
        object Long1(int n)
        {
            if (n > 16)
                throw new FormatException($"an integer of {n} bytes");
            var b = r.ReadBytes(n);
            if (b.Length != n)
                throw new EndOfStreamException();
            var v = new System.Numerics.BigInteger(b, isUnsigned: false, isBigEndian: false);
            // Two returns, not a conditional: `c ? (long)v : v` has the type BigInteger, which boxed every long as a
            // BigInteger.
            if (v >= long.MinValue && v <= long.MaxValue)
                return (long)v;
            return v;
        }

        string Text(ulong n) => Encoding.UTF8.GetString(Bytes(n));

        byte[] Bytes(ulong n)
        {
            if (n > 10_000_000)
                throw new FormatException($"a pickled string of {n} bytes");
            var b = r.ReadBytes((int)n);
            return b.Length == (int)n ? b : throw new EndOfStreamException();
        }

        string Line()
        {
            var sb = new StringBuilder();
            for (char c; (c = (char)r.ReadByte()) != '\n'; )
                sb.Append(sb.Length < 200 ? c : throw new FormatException("a GLOBAL name of more than 200 characters"));
            return sb.ToString();
        }

        static Global Allowed(string module, string name)
        {
            var g = new Global(module, name);
            bool ok =
                (module, name)
                    is
                        ("collections", "OrderedDict")
                        or
                        ("torch._utils", "_rebuild_tensor_v2")
                        or
                        ("torch._utils", "_rebuild_parameter")
                || module == "torch" && StorageTypes.ContainsKey(name);
            return ok
                ? g
                : throw new FormatException(
                    $"the pickle names {Printable.Quote(g.ToString())}, which a state dict does not need; refused (nothing was run)"
                );
        }

        /// <summary>persistent_load: ('storage', type, key, location, numel[, view_metadata]).</summary>
        PthStorage Storage(object? pid)
        {
            if (
                pid is not object?[] { Length: >= 5 } t
                || t[0] as string != "storage"
                || t[1] is not Global g
                || !StorageTypes.ContainsKey(g.Name)
                || t[2] is not string key
                || t[4] is not long count
            )
                throw new FormatException("a persistent id that is not a storage");
            var (type, size) = StorageTypes[g.Name];
            if (count < 0)
                throw new FormatException($"storage {Printable.Quote(key)} declares {count} elements");
            if (file.storages.TryGetValue(key, out var known))
                return known.Count == count && known.Type == type
                    ? known
                    : throw new FormatException($"storage {Printable.Quote(key)} declared twice, differently");
            return file.storages[key] = new PthStorage(key, type, size, count);
        }

        static long NonNegative(object? v) =>
            v is long n and >= 0 ? n : throw new FormatException("a tensor with a bad size or stride");

        static object? Reduce(object? f, object?[]? args)
        {
            if (args is null)
                throw new FormatException("REDUCE without an argument tuple");
            switch (f)
            {
                case Global { Name: "OrderedDict" }:
                    return new Dict();
                case Global { Name: "_rebuild_parameter" } when args.Length >= 1 && args[0] is PthTensor p:
                    return p;
                case Global { Name: "_rebuild_tensor_v2" }
                    when args.Length >= 4
                        && args[0] is PthStorage s
                        && args[1] is long offset
                        && args[2] is object?[] size
                        && args[3] is object?[] stride:
                {
                    long[] shape = [.. size.Select(NonNegative)],
                        step = [.. stride.Select(NonNegative)];
                    if (shape.Length != step.Length || offset < 0)
                        throw new FormatException("a tensor with a bad size, stride or offset");
                    if (shape.Any(n => n > int.MaxValue))
                        throw new FormatException("a tensor with a dimension beyond 2³¹");
                    var t = new PthTensor(s, offset, shape, step);
                    if (t.Extent > s.Count)
                        throw new FormatException(
                            $"a tensor reaches element {t.Extent} of storage {Printable.Quote(s.Key)}, which has {s.Count}"
                        );
                    return t;
                }
                default:
                    throw new FormatException(
                        $"a call of {Printable.Quote(f?.ToString())} with these arguments; refused"
                    );
            }
        }
    }
}
