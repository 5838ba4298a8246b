using System.Text.Json;
using SkiaSharp;
using TorchLabs.Data;
using TorchLabs.Gradients;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Tests.Data;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Models;

/// <summary>
/// PyTorch interoperability: the tutorial's cifar_net.pth made by Python PyTorch 1.13 (scripts/golden/cifar_net.py) in
/// C#, and TorchLabs' files in Python (scripts/golden/check_pth.py, run with Debian's python3-torch, which CI installs:
/// these tests fail, not pass, where it is missing). Logits agree to 1e-6 relative (float32, two libtorch versions);
/// round trips are bit for bit.
/// </summary>
public class InteropTests
{
    const double LogitTolerance = 1e-6;

    static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    static Tensor Inputs() =>
        tensor(
            System
                .Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(
                    File.ReadAllBytes(Golden("cifar_net_inputs.bin"))
                )
                .ToArray(),
            [4, 3, 32, 32]
        );

    static double[] Logits(CifarNet net, Tensor x)
    {
        net.eval();
        using var _ = no_grad();
        return GradCheck.Values(net.call(x));
    }

    static double[] PythonLogits() =>
        JsonDocument
            .Parse(File.ReadAllText(Golden("cifar_net.json")))
            .RootElement.GetProperty("logits")
            .EnumerateArray()
            .SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble()))
            .ToArray();

    [Fact]
    public void PythonTutorialPth_LoadsInCSharp_WithPythonsLogits()
    {
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(1));
        Assert.Equal(ModelFormat.Pth, ModelFiles.Load(net, Golden("cifar_net.pth"), "the tutorial's Net"));
        double err = HandVsAutograd.RelError(Logits(net, Inputs()), PythonLogits());
        Assert.True(err <= LogitTolerance, $"C# vs PyTorch logits: {err:E2}");
    }

    static void AssertBitIdentical(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (k, t) in a)
        {
            Assert.Equal(t.shape, b[k].shape);
            Assert.Equal(t.dtype, b[k].dtype);
            Assert.True(t.contiguous().bytes.SequenceEqual(b[k].contiguous().bytes), k);
        }
    }

    [Fact]
    public void RoundTrips_PthAndSafetensors_LeaveEveryTensorBitIdentical()
    {
        using var scope = NewDisposeScope();
        string dir = TestEnvironment.NewTempDir();
        var original = ModelFiles.Read(Golden("cifar_net.pth"));
        var net = new CifarNet(new Generator(1));
        ModelFiles.Load(net, Golden("cifar_net.pth"), "Net");
        ModelFiles.SavePth(net, Path.Combine(dir, "again.pth")); // .pth → C# → .pth
        AssertBitIdentical(original, ModelFiles.Read(Path.Combine(dir, "again.pth")));
        ModelFiles.SaveSafetensors(net, Path.Combine(dir, "net.safetensors")); // C# → safetensors → C#
        AssertBitIdentical(original, ModelFiles.Read(Path.Combine(dir, "net.safetensors")));
        var fresh = new CifarNet(new Generator(99));
        Assert.Equal(ModelFormat.Safetensors, ModelFiles.Load(fresh, Path.Combine(dir, "net.safetensors"), "Net"));
        Assert.Equal(Logits(net, Inputs()), Logits(fresh, Inputs()));
    }

    [Fact]
    public void FormatIsToldByContent_NotByExtension()
    {
        string dir = TestEnvironment.NewTempDir();
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(2));
        ModelFiles.SaveSafetensors(net, Path.Combine(dir, "model.pth")); // safetensors under a .pth name
        ModelFiles.SavePth(net, Path.Combine(dir, "model.bin"));
        net.save(Path.Combine(dir, "model.safetensors")); // TorchSharp's own format
        Assert.Equal(ModelFormat.Safetensors, ModelFiles.Detect(Path.Combine(dir, "model.pth")));
        Assert.Equal(ModelFormat.Pth, ModelFiles.Detect(Path.Combine(dir, "model.bin")));
        Assert.Equal(ModelFormat.TorchSharp, ModelFiles.Detect(Path.Combine(dir, "model.safetensors")));
        foreach (string f in new[] { "model.pth", "model.bin", "model.safetensors" })
        {
            var other = new CifarNet(new Generator(3));
            ModelFiles.Load(other, Path.Combine(dir, f), "Net");
            Assert.Equal(Logits(net, Inputs()), Logits(other, Inputs()));
        }
    }

    /// <summary>The tutorial's Net but with 5 classes: fc3 is [5, 84].</summary>
    sealed class FiveClassNet : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Conv2d conv1 = nn.Conv2d(3, 6, 5),
            conv2 = nn.Conv2d(6, 16, 5);
        readonly TorchSharp.Modules.Linear fc1 = nn.Linear(400, 120),
            fc2 = nn.Linear(120, 84),
            fc3 = nn.Linear(84, 5);

        public FiveClassNet()
            : base(nameof(FiveClassNet)) => RegisterComponents();

        public override Tensor forward(Tensor x) => fc3.call(fc2.call(fc1.call(conv2.call(conv1.call(x)).flatten(1))));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_LoadPthThatDoesNotFit_ExitsTwoNamingTheFirstWrongKeyAndShape()
    {
        string dir = TestEnvironment.NewTempDir();
        string pth = Path.Combine(dir, "five.pth");
        ModelFiles.SavePth(new FiveClassNet(), pth);
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, 4, 8, seed: 1);
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--load",
            pth,
            "--out",
            Path.Combine(dir, "out")
        );
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(
            $"torchlabs: --load {pth}: does not fit the tutorial's Net: key \"fc3.weight\" has shape [5, 84]; expected [10, 84]",
            r.StdErr.Trim()
        );
    }

    static TestEnvironment.ProcessResult Python(params string[] args)
    {
        Assert.True(
            File.Exists("/usr/bin/python3"),
            "these checks need Debian's python3-torch (apt-get install python3-torch); .ci/run installs it"
        );
        var r = TestEnvironment.Run(
            "/usr/bin/python3",
            [Path.Combine(TestEnvironment.RepoRoot, "scripts", "golden", "check_pth.py"), .. args]
        );
        Assert.True(r.ExitCode == 0, "python3 with torch failed (apt-get install python3-torch): " + r.StdErr);
        return r;
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void CSharpWrittenCifarNetPth_LoadsInPyTorch_WithEqualLogits()
    {
        string data = TestEnvironment.NewTempDir(),
            outDir = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, 40, 20, seed: 12);
        var run = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--epochs",
            "1",
            "--out",
            outDir,
            "--threads",
            "1",
            "--format",
            "json"
        );
        Assert.True(run.ExitCode == 0, run.StdErr);
        string pth = Path.Combine(outDir, "cifar_net.pth");
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(5));
        ModelFiles.Load(net, pth, "Net");
        var py = JsonDocument.Parse(Python(pth, Golden("cifar_net_inputs.bin")).StdOut).RootElement;
        double[] pyLogits = py.GetProperty("logits")
            .EnumerateArray()
            .SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble()))
            .ToArray();
        double err = HandVsAutograd.RelError(Logits(net, Inputs()), pyLogits);
        Assert.True(err <= LogitTolerance, $"C# vs PyTorch on the C#-written .pth: {err:E2}");
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void PythonTutorialPth_EvaluatesWithTheAccuracyPythonReports()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, 4, 200, seed: 13);
        var cs = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--load",
            Golden("cifar_net.pth"),
            "--out",
            TestEnvironment.NewTempDir(),
            "--format",
            "json",
            "--threads",
            "1"
        );
        Assert.True(cs.ExitCode == 0, cs.StdErr);
        using var doc = JsonDocument.Parse(cs.StdOut);
        var py = JsonDocument
            .Parse(Python(Golden("cifar_net.pth"), Golden("cifar_net_inputs.bin"), "--data", data).StdOut)
            .RootElement;
        Assert.Equal(py.GetProperty("total").GetInt32(), doc.RootElement.GetProperty("testImages").GetInt32());
        Assert.Equal(
            100.0 * py.GetProperty("correct").GetInt32() / py.GetProperty("total").GetInt32(),
            doc.RootElement.GetProperty("accuracy").GetDouble(),
            10
        );
        Assert.True(
            doc.RootElement.GetProperty("accuracy").GetDouble() > 50,
            "the golden net was trained on the same class patterns"
        );
        Assert.Equal(4, doc.RootElement.GetProperty("firstFour").GetArrayLength());
    }

    static string WriteImage(string dir, string name, byte[] chw, SKEncodedImageFormat format)
    {
        using var bmp = new SKBitmap(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
            bmp.SetPixel(x, y, new SKColor(chw[y * 32 + x], chw[1024 + y * 32 + x], chw[2048 + y * 32 + x]));
        string path = Path.Combine(dir, name);
        using var data = bmp.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>Round five: a file name that holds a newline and a terminal escape is printed escaped, so it cannot
    /// fake a prediction line or hide the real one.</summary>
    [SkippableFact]
    public void Predict_AHostileFileName_IsPrintedEscaped()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "a newline in a file name");
        string dir = TestEnvironment.NewTempDir();
        var (_, pixels) = SyntheticCifar.Make(1, seed: 32);
        string name = "b.png\nevil.png: plane 99.9 %\u001b[8m";
        string png = WriteImage(dir, name, pixels.AsSpan(0, Cifar10.RecordPixels).ToArray(), SKEncodedImageFormat.Png);
        var r = TestEnvironment.RunInProcess("predict", "--model", Golden("cifar_net.pth"), png);
        Assert.True(r.ExitCode == 0, r.StdErr);
        // before: two lines, one fake
        string line = Assert.Single(r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("b.png\\x0Aevil.png: plane 99.9 %\\x1B[8m: ", line);
        Assert.DoesNotContain('\u001b', r.StdOut);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Predict_PngAndJpeg_TopClassesAsTheNetComputesThem_AndANonImageIsBadInput()
    {
        string dir = TestEnvironment.NewTempDir();
        var (labels, pixels) = SyntheticCifar.Make(3, seed: 31);
        var chw = Enumerable
            .Range(0, 3)
            .Select(i => pixels.AsSpan(i * Cifar10.RecordPixels, Cifar10.RecordPixels).ToArray())
            .ToArray();
        string[] pngs =
        [
            .. Enumerable.Range(0, 3).Select(i => WriteImage(dir, $"img{i}.png", chw[i], SKEncodedImageFormat.Png)),
        ];
        string jpeg = WriteImage(dir, "img0.jpg", chw[0], SKEncodedImageFormat.Jpeg);
        var r = TestEnvironment.RunInProcess([
            "predict",
            "--model",
            Golden("cifar_net.pth"),
            .. pngs,
            jpeg,
            "--format",
            "json",
        ]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        var preds = JsonDocument.Parse(r.StdOut).RootElement.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(4, preds.Count);
        // The oracle: the same net on the same (lossless) pixels through the tensor path.
        using var scope = NewDisposeScope();
        var net = new CifarNet(new Generator(1));
        ModelFiles.Load(net, Golden("cifar_net.pth"), "Net");
        net.eval();
        using var _ = no_grad();
        var p = nn.functional.softmax(
            net.call(Cifar10.Normalize(tensor(chw.SelectMany(c => c).ToArray(), [3, 3, 32, 32]))),
            1
        );
        for (int i = 0; i < 3; i++)
        {
            var top = preds[i].GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(3, top.Count);
            int best = (int)p[i].argmax().item<long>();
            Assert.Equal(Cifar10.ClassNames[best], top[0].GetProperty("class").GetString());
            Assert.Equal(p[i][best].item<float>(), top[0].GetProperty("probability").GetDouble(), 6);
            Assert.True(top[0].GetProperty("probability").GetDouble() >= top[1].GetProperty("probability").GetDouble());
        }
        Assert.True(
            preds[3].GetProperty("top").EnumerateArray().Sum(t => t.GetProperty("probability").GetDouble())
                <= 1.0 + 1e-6
        );

        string notImage = Path.Combine(dir, "notes.png");
        File.WriteAllText(notImage, "this is text");
        var bad = TestEnvironment.RunInProcess("predict", "--model", Golden("cifar_net.pth"), notImage);
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal(
            $"torchlabs: \"{notImage}\": not an image SkiaSharp can decode; expected a PNG or JPEG file",
            bad.StdErr.Trim()
        );
    }

    [Fact]
    public void Predict_ImageOfAnotherSize_IsResizedTo32()
    {
        string dir = TestEnvironment.NewTempDir();
        using var bmp = new SKBitmap(100, 60);
        bmp.Erase(new SKColor(40, 200, 40));
        string path = Path.Combine(dir, "big.png");
        using (var data = bmp.Encode(SKEncodedImageFormat.Png, 100))
            File.WriteAllBytes(path, data.ToArray());
        var (chw, w, h) = PredictLab.Decode(path);
        Assert.Equal((100, 60), (w, h));
        Assert.Equal(Cifar10.RecordPixels, chw.Length);
        Assert.All(chw.Take(1024), v => Assert.Equal(40, v));
    }

    [Fact]
    public void FashionMnist_WritesItsMlps_AsPthAndSafetensors_ThatLoadBack()
    {
        Assert.True(
            FashionMnist.Locate(TestEnvironment.NewTempDir()) is not null,
            "install dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
        );
        string outDir = TestEnvironment.NewTempDir();
        var o = new FashionMnistOptions
        {
            DataDir = TestEnvironment.NewTempDir(),
            Optimizers = ["sgd"],
            Epochs = 1,
            Train = 200,
            Test = 50,
            OutDir = outDir,
        };
        FashionMnistLab.Run(o);
        var pth = ModelFiles.Read(Path.Combine(outDir, "mlp-sgd.pth"));
        AssertBitIdentical(pth, ModelFiles.Read(Path.Combine(outDir, "mlp-sgd.safetensors")));
        Assert.Equal(
            ["layers.fc1.bias", "layers.fc1.weight", "layers.fc2.bias", "layers.fc2.weight"],
            pth.Keys.Order()
        );
        using var scope = NewDisposeScope();
        var mlp = new Mlp([784, 28, 10], "sigmoid", new Generator(9));
        ModelFiles.Load(mlp, Path.Combine(outDir, "mlp-sgd.safetensors"), "the MLP");
        AssertBitIdentical(pth, mlp.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("vanishing --depth 3 --width 4 --train-depths 3 --steps 3", "residual-3")]
    [InlineData("vector-backprop --rng torch --dims 12,4,1 --m 8 --iterations 3 --impl torch", "network")]
    public void EveryLabThatTrains_WritesItsModels_AsPthAndSafetensors(string command, string model)
    {
        string outDir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunInProcess([
            .. command.Split(' '),
            "--out",
            outDir,
            "--threads",
            "1",
            "--format",
            "json",
        ]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        string stem = Path.Combine(outDir, "models", model);
        AssertBitIdentical(ModelFiles.Read(stem + ".pth"), ModelFiles.Read(stem + ".safetensors"));
    }
}
