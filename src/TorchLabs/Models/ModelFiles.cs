using TorchSharp.PyBridge;

namespace TorchLabs.Models;

/// <summary>The three model formats TorchLabs reads and writes.</summary>
public enum ModelFormat
{
    /// <summary>PyTorch's <c>torch.save(net.state_dict(), PATH)</c>: a zip archive holding a pickled state
    /// dict.</summary>
    Pth,

    /// <summary>Hugging Face's safetensors: an 8-byte header length, a JSON header, raw tensor bytes.</summary>
    Safetensors,

    /// <summary>TorchSharp's own <c>module.save</c> format.</summary>
    TorchSharp,
}

/// <summary>
/// Model weights in and out of TorchLabs: PyTorch .pth state dicts and safetensors through TorchSharp.PyBridge (a
/// maintained library, not a hand-written pickle parser), and TorchSharp's own format. The format is told by content,
/// not by extension; a file whose keys or shapes do not fit the model is bad input naming the first wrong key. Files
/// are written atomically.
/// </summary>
public static class ModelFiles
{
    /// <summary>The format of <paramref name="path"/>, from its first bytes: "PK\3\4" (zip: .pth) or the pickled magic
    /// number of the legacy .pth, a little-endian length and '{' (safetensors), else TorchSharp's.</summary>
    public static ModelFormat Detect(string path, string option = "‹load›")
    {
        using var fs = InputFile.OpenRead(
            path,
            Label(option, path),
            "a model file",
            "a model (.pth, .safetensors or TorchSharp's format)"
        );
        var head = new byte[9];
        int n = fs.Read(head, 0, head.Length);
        if (n >= 4 && head[0] == 0x50 && head[1] == 0x4B && head[2] == 0x03 && head[3] == 0x04)
            return ModelFormat.Pth;
        // The legacy (pre-1.6) torch.save stream: PROTO 2, LONG1 of 10 bytes, the magic number 0x1950a86a20f9469cfc6c.
        if (
            n == 9
            && head[0] == 0x80
            && head[2] == 0x8a
            && head[3] == 10
            && head[4] == 0x6c
            && head[5] == 0xfc
            && head[6] == 0x9c
            && head[7] == 0x46
            && head[8] == 0xf9
        )
            return ModelFormat.Pth;
        if (
            n == 9
            && head[8] == (byte)'{'
            && BitConverter.ToUInt64(head, 0) is ulong len
            && len > 1
            && len < (ulong)fs.Length
        )
            return ModelFormat.Safetensors;
        return ModelFormat.TorchSharp;
    }

    /// <summary>How messages name a model file: the option that gave it and the path, escaped.</summary>
    static string Label(string option, string path) => $"{option} {Printable.Escape(path)}";

    /// <summary>Reads the state dict of <paramref name="path"/> (any of the three formats) into <paramref
    /// name="model"/>, after checking every key and shape.</summary>
    /// <param name="option">The option that named the file, for messages (<c>--load</c>, <c>--model</c>).</param>
    public static ModelFormat Load(nn.Module model, string path, string modelName, string option = "‹load›")
    {
        var format = Detect(path, option);
        string file = Label(option, path);
        using var scope = NewDisposeScope();
        try
        {
            if (format == ModelFormat.TorchSharp)
            {
                // TorchSharp's format stores no shapes up front; a model that does not fit fails inside load.
                using var probe = new BinaryReader(File.OpenRead(path));
                model.load(probe, strict: true);
                RequireFinite(model, file);
                return format;
            }
            if (format == ModelFormat.Pth)
            {
                LoadPth(model, path, modelName, option);
                RequireFinite(model, file);
                return format;
            }
            CheckSafetensors(path, option, model, modelName);
            var state = Read(path, format);
            Check(model, state, path, modelName, option);
            using var _ = no_grad();
            foreach (var (key, target) in model.state_dict())
                target.copy_(state[key]);
            RequireFinite(model, file);
            return format;
        }
        catch (Exception e) when (e is not UsageException)
        {
            throw new UsageException(
                $"{file}: not a readable {format} model file ({Printable.Escape(e.Message.Split('\n')[0].Trim())})"
            );
        }
    }

    /// <summary>Refuses a state dict whose keys or shapes differ from the model's, naming the first wrong key and its
    /// shape.</summary>
    public static void Check(
        nn.Module model,
        IReadOnlyDictionary<string, Tensor> state,
        string path,
        string modelName,
        string option = "‹load›"
    ) => CheckShapes(model, state.ToDictionary(kv => kv.Key, kv => kv.Value.shape), Label(option, path), modelName);

    static void CheckShapes(nn.Module model, IReadOnlyDictionary<string, long[]> state, string file, string modelName)
    {
        static string Shape(long[] s) => "[" + string.Join(", ", s) + "]";
        var expected = model.state_dict();
        foreach (var (key, target) in expected)
        {
            if (!state.TryGetValue(key, out var shape))
                throw new UsageException(
                    $"{file}: does not fit {modelName}: key {Printable.Quote(key)} {Shape(target.shape)} is missing"
                );
            if (!shape.SequenceEqual(target.shape))
                throw new UsageException(
                    $"{file}: does not fit {modelName}: key {Printable.Quote(key)} has shape {Shape(shape)}; expected {Shape(target.shape)}"
                );
        }
        foreach (var (key, shape) in state)
            if (!expected.ContainsKey(key))
                throw new UsageException(
                    $"{file}: does not fit {modelName}: unexpected key {Printable.Quote(key)} {Shape(shape)}"
                );
    }

    /// <summary>Where checkpoint dicts keep the model's state dict (<c>torch.save({'model_state_dict': …, 'epoch':
    /// 3})</c>), in the order they are looked for.</summary>
    public static readonly string[] StateDictKeys =
    [
        "state_dict",
        "model_state_dict",
        "model",
        "net",
        "model_state",
        "network",
    ];

    /// <summary>
    /// A .pth into <paramref name="model"/> as <c>model.load_state_dict(torch.load(path))</c> would, with every check
    /// made on what the pickle declares before any tensor data is read: the state dict found (itself or under <see
    /// cref="StateDictKeys"/> of a checkpoint dict), its keys and shapes as the model's, each storage it uses no larger
    /// than the model could need (its weights in float64, plus 1 MiB) and as large as the file's entry for it. Then
    /// each storage is read once and every tensor taken as its strided view, as PyTorch does.
    /// </summary>
    static void LoadPth(nn.Module model, string path, string modelName, string option)
    {
        string file = Label(option, path);
        using var fs = InputFile.OpenRead(path, file, "a model file");
        using var pth = PthFile.Open(fs);
        var state = StateDict(pth.Root, file);
        CheckShapes(model, state.ToDictionary(kv => kv.Key, kv => kv.Value.Shape), file, modelName);
        long limit = model.state_dict().Values.Sum(t => t.numel() * 8) + (1 << 20);
        foreach (var s in state.Values.Select(t => t.Storage).Distinct())
        {
            long bytes = s.Count > long.MaxValue / s.ElementSize ? long.MaxValue : s.Count * s.ElementSize;
            if (bytes > limit)
                throw new UsageException(
                    $"{file}: storage {Printable.Quote(s.Key)} declares {s.Count:N0} elements ({bytes:N0} bytes); {modelName} needs at most {limit:N0} bytes; refused before reading it"
                );
            if (pth.DeclaredBytes(s) is long held && held != bytes)
                throw new UsageException(
                    $"{file}: storage {Printable.Quote(s.Key)} declares {s.Count:N0} elements ({bytes:N0} bytes) but the file holds {held:N0} bytes for it"
                );
        }
        var tensors = pth.Materialize(state);
        using var _ = no_grad();
        foreach (var (key, target) in model.state_dict())
            target.copy_(tensors[key]);
    }

    /// <summary>The state dict in a .pth's top-level object: the object itself when it maps names to tensors, else the
    /// first of <see cref="StateDictKeys"/> that does; otherwise one line naming the keys the file has.</summary>
    static Dictionary<string, PthTensor> StateDict(object? root, string file)
    {
        static Dictionary<string, PthTensor>? Tensors(object? o) =>
            o is PthFile.Dict d && d.All(kv => kv.Key is string && kv.Value is PthTensor)
                ? d.ToDictionary(kv => (string)kv.Key, kv => (PthTensor)kv.Value!)
                : null;
        if (Tensors(root) is { } state)
            return state;
        if (root is not PthFile.Dict dict)
            throw new UsageException($"{file}: holds no dict of tensors (a state dict was expected)");
        foreach (string key in StateDictKeys)
            if (dict.FirstOrDefault(kv => kv.Key as string == key).Value is { } inner && Tensors(inner) is { } found)
                return found;
        string keys = string.Join(", ", dict.Take(12).Select(kv => Printable.Quote(kv.Key.ToString())));
        throw new UsageException(
            $"{file}: a dict with keys {keys}{(dict.Count > 12 ? ", …" : "")} and no state dict under "
                + $"{string.Join(", ", StateDictKeys)}; expected torch.save(net.state_dict()) or a checkpoint dict holding one"
        );
    }

    static readonly Dictionary<string, int> SafetensorsDtypeBytes = new()
    {
        ["F64"] = 8,
        ["F32"] = 4,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["I64"] = 8,
        ["I32"] = 4,
        ["I16"] = 2,
        ["I8"] = 1,
        ["U8"] = 1,
        ["BOOL"] = 1,
    };

    /// <summary>
    /// The safetensors rules, checked on the header before any tensor is read: a header length that fits the file,
    /// JSON, no key twice, each tensor's dtype known, its shape non-negative, its data_offsets [begin, end] in range
    /// with end − begin = numel × the dtype's size, the tensors in order and contiguous, covering the data exactly;
    /// and, given a model, every key and shape as the model's (so a file declaring one huge tensor is refused before it
    /// is allocated).
    /// </summary>
    public static void CheckSafetensors(
        string path,
        string option = "‹load›",
        nn.Module? model = null,
        string modelName = "the model"
    )
    {
        string file = Label(option, path);
        using var fs = File.OpenRead(path);
        var lengthBytes = new byte[8];
        if (fs.Read(lengthBytes, 0, 8) != 8)
            throw new UsageException($"{file}: shorter than a safetensors header");
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength < 2 || headerLength > 100_000_000 || (long)headerLength > fs.Length - 8)
            throw new UsageException(
                $"{file}: safetensors header of {headerLength} bytes in a file of {fs.Length} bytes"
            );
        var header = new byte[headerLength];
        fs.ReadExactly(header);
        long dataLength = fs.Length - 8 - (long)headerLength;
        System.Text.Json.JsonDocument doc;
        try
        {
            doc = System.Text.Json.JsonDocument.Parse(header);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UsageException($"{file}: safetensors header is not JSON ({Printable.Escape(e.Message)})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw new UsageException($"{file}: safetensors header is not a JSON object");
            var seen = new HashSet<string>();
            var ranges = new List<(string Name, long Begin, long End)>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                string name = Printable.Quote(entry.Name);
                if (!seen.Add(entry.Name))
                    throw new UsageException($"{file}: tensor {name} appears twice in the safetensors header");
                if (entry.Name == "__metadata__")
                    continue;
                var t = entry.Value;
                if (
                    t.ValueKind != System.Text.Json.JsonValueKind.Object
                    || !t.TryGetProperty("dtype", out var dtype)
                    || !t.TryGetProperty("shape", out var shape)
                    || !t.TryGetProperty("data_offsets", out var offsets)
                    || dtype.ValueKind != System.Text.Json.JsonValueKind.String
                    || shape.ValueKind != System.Text.Json.JsonValueKind.Array
                    || offsets.ValueKind != System.Text.Json.JsonValueKind.Array
                    || offsets.GetArrayLength() != 2
                )
                    throw new UsageException($"{file}: tensor {name}: expected dtype, shape and two data_offsets");
                if (!SafetensorsDtypeBytes.TryGetValue(dtype.GetString()!, out int size))
                    throw new UsageException(
                        $"{file}: tensor {name} has dtype {Printable.Quote(dtype.GetString())}; expected one of "
                            + string.Join(", ", SafetensorsDtypeBytes.Keys)
                    );
                long numel = 1;
                foreach (var d in shape.EnumerateArray())
                {
                    if (!d.TryGetInt64(out long n) || n < 0)
                        throw new UsageException($"{file}: tensor {name} has a bad shape");
                    numel =
                        n == 0 ? 0
                        : numel > long.MaxValue / n ? long.MaxValue
                        : numel * n;
                }
                if (
                    !offsets[0].TryGetInt64(out long begin)
                    || !offsets[1].TryGetInt64(out long end)
                    || begin < 0
                    || end < begin
                    || end > dataLength
                )
                    throw new UsageException(
                        $"{file}: tensor {name} has data_offsets {offsets.GetRawText()}; expected 0 ≤ begin ≤ end ≤ {dataLength}, the data's length"
                    );
                if (numel > long.MaxValue / size || end - begin != numel * size)
                    throw new UsageException(
                        $"{file}: tensor {name} declares {numel} × {size} bytes but its offsets hold {end - begin}"
                    );
                ranges.Add((entry.Name, begin, end));
            }
            long at = 0;
            foreach (var (name, begin, end) in ranges.OrderBy(r => r.Begin))
            {
                if (begin != at)
                    throw new UsageException(
                        $"{file}: tensor {Printable.Quote(name)} starts at byte {begin} of the data; expected {at} (tensors in order, contiguous, not overlapping)"
                    );
                at = end;
            }
            if (at != dataLength)
                throw new UsageException(
                    $"{file}: the tensors cover {at} of the {dataLength} bytes of data; expected all of them"
                );
            if (model is null)
                return;
            foreach (var (key, target) in model.state_dict())
            {
                if (!doc.RootElement.TryGetProperty(key, out var t))
                    continue; // Check names what is missing, after reading
                long[] declared = t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (!declared.SequenceEqual(target.shape))
                    throw new UsageException(
                        $"{file}: does not fit {modelName}: key {Printable.Quote(key)} has shape [{string.Join(", ", declared)}]; expected "
                            + $"[{string.Join(", ", target.shape)}]"
                    );
            }
        }
    }

    /// <summary>Refuses weights that are NaN or infinite, naming the first tensor that holds one (a model that predicts
    /// "NaN").</summary>
    static void RequireFinite(nn.Module model, string file)
    {
        using var scope = NewDisposeScope();
        foreach (var (key, t) in model.state_dict())
            if (t.is_floating_point() && !t.isfinite().all().item<bool>())
                throw new UsageException(
                    $"{file}: tensor {Printable.Quote(key)} holds NaN or infinite values; expected finite weights"
                );
    }

    /// <summary>Writes <paramref name="model"/>'s state dict as a PyTorch .pth file that <c>torch.load</c> reads (keys
    /// as PyTorch names them).</summary>
    public static void SavePth(nn.Module model, string path) => WritePth(model.state_dict(), path);

    /// <summary>Writes <paramref name="model"/>'s state dict as safetensors.</summary>
    public static void SaveSafetensors(nn.Module model, string path) => WriteSafetensors(model.state_dict(), path);

    /// <summary>Writes named tensors (a network kept as plain tensors, not a module) as PATH.pth and
    /// PATH.safetensors.</summary>
    public static void SaveTensors(IReadOnlyDictionary<string, Tensor> tensors, string pathWithoutExtension)
    {
        WritePth(tensors, pathWithoutExtension + ".pth");
        WriteSafetensors(tensors, pathWithoutExtension + ".safetensors");
    }

    static void WritePth(IReadOnlyDictionary<string, Tensor> tensors, string path) => AtomicFile.Write(path, tmp =>
        {
            using var scope = NewDisposeScope();
            PyTorchPickler.PickleStateDict(tmp, OwnStorage(tensors));
        });

    static void WriteSafetensors(IReadOnlyDictionary<string, Tensor> tensors, string path) =>
        AtomicFile.Write(path, tmp =>
        {
            using var scope = NewDisposeScope();
            Safetensors.SaveStateDict(tmp, OwnStorage(tensors));
        });

    /// <summary>
    /// Every tensor copied into contiguous storage of its own: parameters that are views of one flat buffer
    /// (<see cref="Fast.FlatSgd"/>) would otherwise be written with their offset into a storage that is not saved
    /// whole, and a transposed view (which <c>clone</c> keeps transposed) cannot be written by the pickler at all.
    /// </summary>
    static Dictionary<string, Tensor> OwnStorage(IReadOnlyDictionary<string, Tensor> tensors) =>
        tensors.ToDictionary(kv => kv.Key, kv => kv.Value.detach().contiguous().clone());

    /// <summary>The state dict of a file as name → tensor (for round-trip checks and tools).</summary>
    public static Dictionary<string, Tensor> Read(string path) => Read(path, Detect(path));

    static Dictionary<string, Tensor> Read(string path, ModelFormat format) =>
        format switch
        {
            ModelFormat.Pth => ReadPth(path),
            ModelFormat.Safetensors => Safetensors.LoadStateDict(path),
            _ => throw new UsageException(
                $"{path}: TorchSharp's format has no stand-alone state dict; load it into its model"
            ),
        };

    static Dictionary<string, Tensor> ReadPth(string path)
    {
        using var fs = File.OpenRead(path);
        using var pth = PthFile.Open(fs);
        return pth.Materialize(StateDict(pth.Root, path));
    }

    /// <summary>Short name of a format, for messages and JSON.</summary>
    public static string Name(ModelFormat f) =>
        f switch
        {
            ModelFormat.Pth => "pth",
            ModelFormat.Safetensors => "safetensors",
            _ => "torchsharp",
        };
}
