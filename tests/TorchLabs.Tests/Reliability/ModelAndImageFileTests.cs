using SkiaSharp;
using TorchLabs.Checkpoints;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Runtime;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Reliability;

/// <summary>
/// Issue #27's defects, those fixed so far (docs/reliability.md, "Round three"): image bombs refused from the header
/// (1), predict in fixed-size batches (3), text from model files reaches the terminal escaped and cut (4), truncated
/// images refused (6), non-finite weights refused (7), predict's messages name --model (12), an argument that starts
/// with @ is a file name, not a response file (14), and a transparent PNG keeps its colours (15).
/// </summary>
public class ModelAndImageFileTests
{
    const string Hostile = "\u001b]0;pwned\u0007\u001b[2J\u001b[1;32m All checks passed\u202e";

    [Fact]
    public void Printable_EscapesEveryNonPrintingCharacter_AndCutsLongText()
    {
        string shown = Printable.Escape(Hostile);
        Assert.Equal("\\x1B]0;pwned\\x07\\x1B[2J\\x1B[1;32m All checks passed\\u202E", shown);
        Assert.DoesNotContain(shown, c => char.IsControl(c));
        Assert.Equal("\"tab\\x09\"", Printable.Quote("tab\t"));
        string cut = Printable.Escape(new string('w', 1000), 100);
        Assert.Equal(new string('w', 100) + "… (900 more characters)", cut);
        Assert.Equal("façade ∂L/∂W", Printable.Escape("façade ∂L/∂W")); // printable text stays as it is
    }

    /// <summary>The tutorial Net's state dict as safetensors, with one key renamed and one value changed as
    /// given.</summary>
    static string WriteState(string name, Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> change)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(2);
        var state = new CifarNet(gen).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        string path = Path.Combine(TestEnvironment.NewTempDir("torchlabs-r3"), name);
        Safetensors.SaveStateDict(path, change(state));
        return path;
    }

    [Fact]
    public void KeyWithTerminalEscapes_IsNamedEscaped()
    {
        string path = WriteState("escape.safetensors", s =>
        {
            s[Hostile] = s["fc3.bias"].clone(); // an extra key: "unexpected key …"
            return s;
        });
        using var gen = new Generator(1);
        var e = Assert.Throws<UsageException>(() =>
            ModelFiles.Load(new CifarNet(gen), path, "the tutorial's Net", "--model")
        );
        Assert.Contains("\\x1B]0;pwned\\x07", e.Message);
        Assert.DoesNotContain(e.Message, c => char.IsControl(c));
        Assert.StartsWith("--model ", TestEnvironment.AsShown(e));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void KeyWithTerminalEscapes_NoByteOfItReachesTheTerminal()
    {
        string path = WriteState("escape.safetensors", s =>
        {
            s[Hostile] = s["fc3.bias"].clone(); // an extra key: "unexpected key …"
            return s;
        });
        string data = TestEnvironment.NewTempDir();
        Data.SyntheticCifar.WriteFolder(data, 8, 8, seed: 3);
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--load",
            path,
            "--data",
            data,
            "--out",
            TestEnvironment.NewTempDir(),
            "--threads",
            "1"
        );
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain(r.StdErr + r.StdOut, c => c is '\u001b' or '\u0007' or '\u202e');
        Assert.Contains("\\x1B", r.StdErr);
        Assert.Single(r.StdErr.Trim().Split('\n'));
    }

    [Fact]
    public void NonFiniteWeights_AreRefusedNamingTheFirstTensor()
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity })
        {
            string path = WriteState("nan.safetensors", s =>
            {
                s["fc2.weight"][0, 0] = bad;
                return s;
            });
            using var gen = new Generator(1);
            var e = Assert.Throws<UsageException>(() => ModelFiles.Load(new CifarNet(gen), path, "the tutorial's Net"));
            Assert.Equal(
                $"--load {path}: tensor \"fc2.weight\" holds NaN or infinite values; expected finite weights",
                TestEnvironment.AsShown(e)
            );
        }
    }

    [Fact]
    public void PredictsMessages_NameTheModelOption()
    {
        var e = Assert.Throws<UsageException>(() => ModelFiles.Detect("/nonexistent/cifar_net.pth", "--model"));
        Assert.StartsWith("--model /nonexistent/cifar_net.pth: no such file", TestEnvironment.AsShown(e));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void AnArgumentStartingWithAt_IsAFileName_NotAResponseFile()
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.Run(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "torchlabs.dll"), "predict", "--model", "none.pth", "@at.png"],
            workingDirectory: dir
        );
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("Response file", r.StdErr);
        Assert.Contains("@at.png", r.StdErr);
    }

    /// <summary>A PNG of <paramref name="w"/> × <paramref name="h"/> RGBA pixels whose header is honest but whose data
    /// is one tiny zlib stream: 169 bytes that would decode to w·h·4 bytes.</summary>
    internal static string BombPng(string dir, int w, int h)
    {
        byte[] Be(int v) => BitConverter.GetBytes(v).Reverse().ToArray();
        byte[] ihdr = [.. Be(w), .. Be(h), 8, 6, 0, 0, 0];
        byte[] idat = [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01];
        byte[] png =
        [
            0x89,
            0x50,
            0x4E,
            0x47,
            0x0D,
            0x0A,
            0x1A,
            0x0A,
            .. Chunk("IHDR", ihdr),
            .. Chunk("IDAT", idat),
            .. Chunk("IEND", []),
        ];
        string path = Path.Combine(dir, $"bomb-{w}x{h}.png");
        File.WriteAllBytes(path, png);
        return path;
    }

    /// <summary>One PNG chunk: its length, type and data, then the CRC-32 of type and data (big-endian
    /// numbers).</summary>
    static byte[] Chunk(string type, byte[] data)
    {
        var body = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        return
        [
            .. BitConverter.GetBytes(data.Length).Reverse(),
            .. body,
            .. BitConverter.GetBytes(Crc32(body)).Reverse(),
        ];
    }

    /// <summary>PNG's CRC-32 (ISO 3309, polynomial 0xEDB88320, reflected).</summary>
    static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    static string Png(string dir, string name, int w, int h, SKColor color)
    {
        using var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            bmp.SetPixel(x, y, new SKColor((byte)(color.Red + x % 7), color.Green, color.Blue, color.Alpha));
        string path = Path.Combine(dir, name);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void ImageDeclaringTooManyPixels_IsRefusedFromItsHeader()
    {
        string path = BombPng(TestEnvironment.NewTempDir(), 23000, 23000);
        Assert.True(new FileInfo(path).Length < 200);
        // 2.1 GB of pixels, refused from the header
        var e = Assert.Throws<UsageException>(() => PredictLab.Decode(path));
        Assert.EndsWith(
            "the image declares 23000 × 23000 pixels; expected at most 16,000,000 pixels (refused before decoding)",
            e.Message
        );
        Assert.StartsWith($"\"{path}\"", e.Message);
    }

    [Fact]
    public void TruncatedImage_IsRefusedNamingTheFile()
    {
        string dir = TestEnvironment.NewTempDir();
        string whole = Png(dir, "whole.png", 100, 60, new SKColor(120, 30, 200));
        byte[] bytes = File.ReadAllBytes(whole);
        string half = Path.Combine(dir, "half.png");
        File.WriteAllBytes(half, bytes[..(bytes.Length / 2)]);
        Assert.Equal(100, PredictLab.Decode(whole).Width);
        var e = Assert.Throws<UsageException>(() => PredictLab.Decode(half));
        Assert.Contains("half.png\": the image is truncated", e.Message);
    }

    /// <summary>A 32 × 32 RGBA PNG written byte by byte (stored deflate blocks), every pixel (r, g, b, a): no encoder
    /// in between that could premultiply the colours away.</summary>
    static string RawRgbaPng(string dir, byte r, byte g, byte b, byte a)
    {
        var raw = new List<byte>();
        for (int y = 0; y < 32; y++)
        {
            raw.Add(0); // filter: none
            for (int x = 0; x < 32; x++)
                raw.AddRange([r, g, b, a]);
        }
        uint s1 = 1,
            s2 = 0;
        foreach (byte v in raw)
        {
            s1 = (s1 + v) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        ushort len = (ushort)raw.Count;
        byte[] zlib =
        [
            0x78,
            0x01,
            0x01,
            (byte)len,
            (byte)(len >> 8),
            (byte)~len,
            (byte)(~len >> 8),
            .. raw,
            .. BitConverter.GetBytes((s2 << 16) | s1).Reverse(),
        ];
        byte[] ihdr = [0, 0, 0, 32, 0, 0, 0, 32, 8, 6, 0, 0, 0];
        byte[] png =
        [
            0x89,
            0x50,
            0x4E,
            0x47,
            0x0D,
            0x0A,
            0x1A,
            0x0A,
            .. Chunk("IHDR", ihdr),
            .. Chunk("IDAT", zlib),
            .. Chunk("IEND", []),
        ];
        string path = Path.Combine(dir, "clear.png");
        File.WriteAllBytes(path, png);
        return path;
    }

    [Fact]
    public void FullyTransparentPng_KeepsItsColours_AsPilConvertRgbDoes()
    {
        string path = RawRgbaPng(TestEnvironment.NewTempDir(), 200, 40, 90, 0);
        var (chw, _, _) = PredictLab.Decode(path);
        Assert.Equal(200, chw[0]); // red of pixel (0, 0), not 0 as premultiplied alpha would make it
        Assert.Equal(40, chw[1024]);
        Assert.Equal(90, chw[2048]);
    }

    [Fact]
    public void ManyImages_AreClassifiedInBatches_WithTheSameNumbersAsOneByOne()
    {
        string dir = TestEnvironment.NewTempDir();
        using (var gen = new Generator(4))
            ModelFiles.SavePth(new CifarNet(gen), Path.Combine(dir, "net.pth"));
        string a = Png(dir, "a.png", 32, 32, new SKColor(10, 200, 30)),
            b = Png(dir, "b.png", 40, 20, new SKColor(220, 20, 60));
        var files = Enumerable.Range(0, PredictLab.Batch + 40).Select(i => i % 2 == 0 ? a : b).ToList();
        var many = PredictLab.Run(Path.Combine(dir, "net.pth"), files);
        var one = PredictLab.Run(Path.Combine(dir, "net.pth"), [a, b]);
        Assert.Equal(files.Count, many.Count);
        // libtorch promises no equal bits across batch sizes or CPU features: a batch of 256 and a batch of 2 go
        // through other kernel blockings, so each float32 logit (a dot product of at most 400 terms) may be summed in
        // another order. The bound of such a reordering is γₙ = n·u/(1 − n·u) relative to Σ|terms| (Higham, Accuracy
        // and Stability, §3.1); with n = 400 and u = 2⁻²⁴ that is 2.4e-5, and softmax is 1-Lipschitz in its logits: the
        // classes must agree, the probabilities within it.
        const double u = 5.9604644775390625e-8,
            gamma400 = 400 * u / (1 - 400 * u); // u = 2⁻²⁴, float32's unit roundoff
        for (int i = 0; i < files.Count; i++)
        {
            Assert.Equal(one[i % 2].Top.Select(t => t.Class), many[i].Top.Select(t => t.Class));
            for (int k = 0; k < many[i].Top.Count; k++)
                Assert.Equal(one[i % 2].Top[k].Probability, many[i].Top[k].Probability, gamma400);
        }
    }

    /// <summary>A safetensors file by hand: the header's JSON as given, then <paramref name="data"/> bytes of
    /// data.</summary>
    static string SafetensorsFile(string json, int data)
    {
        byte[] header = System.Text.Encoding.UTF8.GetBytes(json);
        string path = Path.Combine(TestEnvironment.NewTempDir("torchlabs-st"), "t.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[data]]);
        return path;
    }

    [Theory]
    [InlineData(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[-48,-8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""",
        "tensor \"a\" has data_offsets [-48,-8]"
    )]
    [InlineData(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,12]}}""",
        "tensor \"b\" declares 2 × 4 bytes but its offsets hold 4"
    )]
    [InlineData(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""",
        "tensor \"b\" starts at byte 4 of the data; expected 8"
    )]
    [InlineData(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""",
        "tensor \"a\" appears twice"
    )]
    [InlineData(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
        "the tensors cover 8 of the 12 bytes of data"
    )]
    [InlineData("""{"a":{"dtype":"Q4","shape":[3],"data_offsets":[0,12]}}""", "tensor \"a\" has dtype \"Q4\"")]
    public void SafetensorsOffsets_FollowTheFormatsRules(string header, string expected)
    {
        // 3 float32 = 12 bytes of data in every case; the first valid layout would be a [0, 8], b [8, 12].
        string path = SafetensorsFile(header, 12);
        var e = Assert.Throws<UsageException>(() => ModelFiles.CheckSafetensors(path, "--model"));
        Assert.Contains(expected, e.Message);
        ModelFiles.CheckSafetensors(
            SafetensorsFile(
                """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""",
                12
            )
        );
    }

    [Fact]
    public void SafetensorsDeclaringAHugeTensor_IsRefusedBeforeReadingIt()
    {
        // fc3.bias declared with 268,435,456 elements but given no data: refused from the header, against the model's
        // shape.
        string path = WriteState("huge.safetensors", s => s);
        using var gen = new Generator(1);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(
            System.Text.Encoding.UTF8.GetString(
                File.ReadAllBytes(path).AsSpan(8, (int)BitConverter.ToUInt64(File.ReadAllBytes(path), 0))
            )
        )!;
        doc["fc3.bias"]!["shape"] = new System.Text.Json.Nodes.JsonArray(268_435_456);
        byte[] all = File.ReadAllBytes(path);
        long headerLength = (long)BitConverter.ToUInt64(all, 0);
        byte[] header = System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString());
        File.WriteAllBytes(
            path,
            [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. all.AsSpan((int)(8 + headerLength))]
        );
        var e = Assert.Throws<UsageException>(() => ModelFiles.Load(new CifarNet(gen), path, "the tutorial's Net"));
        Assert.Contains("tensor \"fc3.bias\" declares 268435456 × 4 bytes", e.Message);
    }

    [Fact]
    public void CheckpointFieldsOutOfRange_AreRefused_AndNothingToDoIsSaid()
    {
        string data = TestEnvironment.NewTempDir();
        Data.SyntheticCifar.WriteFolder(data, trainPerFile: 8, test: 8, seed: 9);
        string outDir = TestEnvironment.NewTempDir();
        var o = new Cifar10Options
        {
            DataDir = data,
            OutDir = outDir,
            Epochs = 1,
            LimitTrain = 16,
            LimitTest = 8,
            LogEvery = 2,
        };
        Cifar10Lab.Run(o);
        var e = Assert.Throws<UsageException>(() => Cifar10Lab.Run(o with { Resume = true }));
        Assert.Contains("nothing to do: the checkpoint", e.Message);
        Assert.Contains("has 1 epochs done, --epochs is 1", TestEnvironment.AsShown(e));

        // The same checkpoint with epochs done −5 (checksum recomputed: written by the checkpoint writer itself).
        string path = Path.Combine(TestEnvironment.NewTempDir(), "crafted.dat");
        using (var scope = NewDisposeScope())
        {
            var model = nn.Linear(2, 1);
            using var sgd = new TorchLabs.Fast.FlatSgd([.. model.parameters()], 0.1, 0.9);
            using var shuffle = new Generator(1);
            var rec = new TrainingRecord
            {
                Settings = [],
                LearningRate = 0.1,
                EpochsDone = -5,
            };
            Checkpoint.Save(path, "crafted", w => rec.Write(w, shuffle, model, sgd.Hooks()));
            var bad = Assert.Throws<UsageException>(() =>
                Checkpoint.Load(path, "crafted", r =>
                    TrainingRecord.Read(r, path, [], false, shuffle, model, sgd.Hooks())
                )
            );
            Assert.Contains("stored epochs done -5 is not in [1, 1000000]", bad.Message);
        }
    }

    [Fact]
    public void ADirectoryGivenAsAModelOrImage_IsBadInputSayingSo()
    {
        string dir = TestEnvironment.NewTempDir();
        var model = Assert.Throws<UsageException>(() => ModelFiles.Detect(dir, "--model"));
        Assert.Equal($"--model {dir}: a directory; expected a model file", TestEnvironment.AsShown(model));
        var image = Assert.Throws<UsageException>(() => PredictLab.Decode(dir));
        Assert.Equal($"\"{dir}\": a directory; expected a PNG or JPEG image", image.Message);
    }

    [SkippableFact]
    public void AllocatorPath_MustBeASharedLibraryOfThisMachine_WithoutSpaceOrColon()
    {
        var notElf = Assert.Throws<UsageException>(() =>
            TorchLabs.Cli.NativeAllocator.Choose("/etc/passwd", File.Exists)
        );
        Assert.StartsWith("TORCHLABS_ALLOCATOR=/etc/passwd: not an ELF file;", notElf.Message);
        string dir = TestEnvironment.NewTempDir("torchlabs alloc"); // a space in the folder's name
        string copy = Path.Combine(dir, "libc-copy.so");
        File.Copy(typeof(object).Assembly.Location, copy); // a file that exists; the space is refused first
        var spaced = Assert.Throws<UsageException>(() => TorchLabs.Cli.NativeAllocator.Choose(copy, File.Exists));
        Assert.Contains("a path with a space or colon cannot be preloaded", spaced.Message);
        string? libc = new[] { "/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6" }.FirstOrDefault(
            File.Exists
        );
        Skip.If(libc is null, "no libc.so.6 in the usual folders to stand for a real shared library");
        Assert.Null(TorchLabs.Cli.NativeAllocator.ElfProblem(libc!));
        Assert.Equal("not an ELF file", TorchLabs.Cli.NativeAllocator.ElfProblem("/etc/passwd"));
    }

    [SkippableFact]
    public void AFifoGivenAsAModelOrImage_IsRefusedWithoutBlocking()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs as made by mkfifo: Linux");
        string fifo = Path.Combine(TestEnvironment.NewTempDir(), "model.pth");
        var made = TestEnvironment.Run("mkfifo", [fifo]);
        Assert.Equal(0, made.ExitCode);
        Assert.False(FileKind.IsRegularFile(fifo));
        Assert.True(FileKind.IsRegularFile("/etc/passwd"));
        var model = Assert.Throws<UsageException>(() => ModelFiles.Detect(fifo, "--model"));
        Assert.Equal(
            $"--model {fifo}: not a regular file (a FIFO, device or socket); expected a model file",
            TestEnvironment.AsShown(model)
        );
        var image = Assert.Throws<UsageException>(() => PredictLab.Decode(fifo));
        Assert.EndsWith("not a regular file (a FIFO, device or socket); expected a PNG or JPEG image", image.Message);
    }

    [Fact]
    public void TwoRunsWithOneOutputFolder_TheSecondIsRefusedNamingTheFirst()
    {
        string dir = TestEnvironment.NewTempDir();
        using (OutputFolder.Lock(dir))
        {
            var e = Assert.Throws<UsageException>(() => OutputFolder.Lock(dir));
            Assert.Equal(
                $"--out {dir}: another torchlabs run (process {Environment.ProcessId}) is writing to this folder; wait for it, "
                    + "or give another --out",
                TestEnvironment.AsShown(e)
            );
        }
        using (OutputFolder.Lock(dir)) { } // released: the next run takes it
        Assert.Empty(Directory.GetFiles(dir)); // and leaves nothing behind
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cifar10_IntoAFolderAnotherRunHolds_ExitsTwo()
    {
        string data = TestEnvironment.NewTempDir();
        Data.SyntheticCifar.WriteFolder(data, 8, 8, seed: 3);
        string outDir = TestEnvironment.NewTempDir();
        using var held = OutputFolder.Lock(outDir);
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--out",
            outDir,
            "--epochs",
            "1",
            "--threads",
            "1"
        );
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"another torchlabs run (process {Environment.ProcessId})", r.StdErr);
    }
}

/// <summary>#27, the rest of defect 9 and defect 10: a symbolic link loop, a 25000 × 25000 image, and a disk that fills
/// up.</summary>
public class FileSystemFaultTests
{
    [Fact]
    public void ASymbolicLinkLoop_IsBadInputSayingSo()
    {
        string dir = TestEnvironment.NewTempDir(),
            a = Path.Combine(dir, "a.pth"),
            b = Path.Combine(dir, "b.pth");
        File.CreateSymbolicLink(a, b);
        File.CreateSymbolicLink(b, a);
        var e = Assert.Throws<UsageException>(() => ModelFiles.Detect(a, "--model"));
        Assert.Equal(
            $"--model {a}: a symbolic link that loops (or a chain too long to follow); expected a model file",
            TestEnvironment.AsShown(e)
        );
        var r = TestEnvironment.RunCli("predict", "--model", a, a);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("a symbolic link that loops", r.StdErr);
    }

    [Fact]
    public void A25000By25000Image_IsRefusedFromItsHeader_NotAnInternalError()
    {
        string dir = TestEnvironment.NewTempDir();
        string png = Path.Combine(dir, "huge.png");
        File.Move(ModelAndImageFileTests.BombPng(dir, 25000, 25000), png);
        string model = Path.Combine(dir, "net.pth");
        using (var gen = new Generator(9))
            ModelFiles.SavePth(new CifarNet(gen), model);
        // was "internal error: Unable to allocate pixels", exit 1
        var r = TestEnvironment.RunCli("predict", "--model", model, png);
        Assert.Equal(2, r.ExitCode);
        Assert.EndsWith(
            "the image declares 25000 × 25000 pixels; expected at most 16,000,000 pixels (refused before decoding)",
            Assert.Single(r.StdErr.Trim().Split('\n'))
        );
    }

    /// <summary>A tmpfs of <paramref name="kib"/> KiB at a fresh folder (root only; skipped elsewhere), unmounted by
    /// the caller.</summary>
    static string SmallDisk(int kib)
    {
        Skip.IfNot(
            OperatingSystem.IsLinux() && Environment.UserName == "root",
            "mounting a small tmpfs needs root on Linux"
        );
        string dir = TestEnvironment.NewTempDir();
        var m = TestEnvironment.Run("mount", ["-t", "tmpfs", "-o", $"size={kib}k", "tmpfs", dir]);
        Skip.If(m.ExitCode != 0, "mount -t tmpfs is not allowed here: " + m.StdErr.Trim());
        return dir;
    }

    [SkippableFact]
    public void TensorBoard_OnAFullDisk_SaysSo_AndLeavesNoTornRecord()
    {
        string dir = SmallDisk(64);
        try
        {
            var log = new TorchLabs.Reporting.TensorBoardLog(dir);
            var e = Assert.Throws<DiskFullException>(() =>
            {
                for (int step = 0; step < 1_000_000; step++)
                    log.Text("notes", new string('x', 900), step);
            });
            Assert.Contains("no space left on device", e.Message);
            // Every record left parses whole, CRCs included (before: a torn last record and "internal error:
            // IOException").
            var records = TorchLabs.Tests.Reporting.EventFiles.ReadFolder(dir).SelectMany(ev => ev.Values).ToList();
            Assert.NotEmpty(records);
        }
        finally
        {
            TestEnvironment.Run("umount", [dir]);
        }
    }

    [Trait("Speed", "Slow")]
    [SkippableFact]
    public void DiskFullDuringAll_IsOneLine_RemovesWhatItWrote_AndKeepsThePreviousReport()
    {
        string disk = SmallDisk(400);
        try
        {
            string report = Path.Combine(disk, "report");
            Assert.Equal(
                0,
                TestEnvironment.RunInProcess("all", "--only", "errata", "--out", report, "--threads", "1").ExitCode
            );
            byte[] index = File.ReadAllBytes(Path.Combine(report, "index.html"));
            var before = Directory.GetFiles(report, "*", SearchOption.AllDirectories).Order().ToList();
            // The fifteen histogram figures (about 450 KB) do not fit in what is left.
            var r = TestEnvironment.RunInProcess(
                "all",
                "--only",
                "histograms",
                "errata",
                "--out",
                report,
                "--threads",
                "1"
            );
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"torchlabs: cannot write {report}: no space left on device", r.StdErr.Trim().Split('\n')[^1]);
            Assert.DoesNotContain("internal error", r.StdErr);
            // the previous report, untouched
            Assert.Equal(index, File.ReadAllBytes(Path.Combine(report, "index.html")));
            // nothing new stays
            Assert.Equal(before, Directory.GetFiles(report, "*", SearchOption.AllDirectories).Order().ToList());
        }
        finally
        {
            TestEnvironment.Run("umount", [disk]);
        }
    }

    [SkippableFact]
    public void AtomicWriteOnAFullDisk_SaysSo_AndLeavesNoTemporary()
    {
        string disk = SmallDisk(64);
        try
        {
            string path = Path.Combine(disk, "big.bin");
            var e = Assert.Throws<DiskFullException>(() => AtomicFile.WriteAllBytes(path, new byte[256 << 10]));
            Assert.Equal($"cannot write {path}: no space left on device", e.Message);
            Assert.Empty(Directory.GetFiles(disk));
        }
        finally
        {
            TestEnvironment.Run("umount", [disk]);
        }
    }
}
