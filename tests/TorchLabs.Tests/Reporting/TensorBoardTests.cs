using System.Text;
using TorchLabs.Reporting;
using TorchLabs.Tests.Data;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Reporting;

/// <summary>
/// #29: the event files of --tensorboard, read back by <see cref="EventFiles"/> (framing, CRCs and protobuf decoded
/// independently of TorchSharp's writer), carry the run's own numbers: scalars equal to the JSON to float32 rounding
/// (TensorBoard keeps float32), a histogram of every parameter and gradient, the predictions image, the summary text.
/// </summary>
public class TensorBoardTests
{
    [Fact]
    public void Crc32c_IsCastagnolis_OnTheStandardCheckString()
    {
        // The check value of CRC-32C for "123456789" is 0xE3069283 (RFC 3720, B.4); masked as TFRecord does.
        uint crc = 0xE3069283;
        Assert.Equal(
            unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8),
            EventFiles.Masked(Encoding.ASCII.GetBytes("123456789"))
        );
    }

    [Fact]
    public void Log_WritesScalarsHistogramsImageAndText_ThatDecodeWithValidCrcs()
    {
        string dir = TestEnvironment.NewTempDir();
        var log = new TensorBoardLog(dir);
        using var gen = new Generator(3);
        var net = nn.Linear(4, 3);
        using (no_grad())
            foreach (var p in net.parameters())
                p.copy_(randn(p.shape, generator: gen));
        net.call(randn([5, 4], generator: gen)).square().sum().backward();
        log.Scalar("train/loss", 0.125, 7);
        Assert.Equal(0, log.Histograms(net, 7));
        byte[] png = Plots.ImageGrid([(new byte[3 * 4 * 4], "x")], 4, 4, "t", "t").Render!();
        log.Image("test/predictions", png, 7);
        log.Text("model/summary", TensorBoardLog.Code("a\nb"), 0);

        var events = EventFiles.ReadFolder(dir);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var values = events.SelectMany(e => e.Values.Select(v => (e.Step, v))).ToList();
        Assert.Equal(0.125f, values.Single(v => v.v.Tag == "train/loss").v.Simple);
        foreach (var (name, p) in net.named_parameters())
        {
            var h = values.Single(v => v.v.Tag == "parameters/" + name).v.Histogram!;
            var data = p.data<float>().Select(x => (double)x).ToArray();
            Assert.Equal(data.Length, h.Num);
            Assert.Equal(h.Num, h.Counts.Sum());
            Assert.Equal(data.Min(), h.Min);
            Assert.Equal(data.Max(), h.Max);
            Assert.Equal(data.Sum(), h.Sum, 1e-12);
            Assert.NotNull(values.Single(v => v.v.Tag == "gradients/" + name).v.Histogram);
        }
        var image = values.Single(v => v.v.Tag == "test/predictions").v;
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], image.ImagePng![..4]);
        Assert.True(image.ImageWidth > 0 && image.ImageHeight > 0);
        var text = values.Single(v => v.v.Tag == "model/summary/text_summary").v;
        Assert.Equal("text", text.PluginName);
        Assert.Equal("    a\n    b", Assert.Single(text.Strings));
        Assert.Empty(Directory.GetFiles(dir, "*.png")); // the image's temporary file is gone
    }

    [Fact]
    public void Histograms_LeaveOutNonFiniteTensors_AndCountThem()
    {
        string dir = TestEnvironment.NewTempDir();
        var net = nn.Linear(2, 2);
        using (no_grad())
            net.weight!.fill_(double.NaN);
        // the NaN weight; the bias is written, no gradients yet
        Assert.Equal(1, new TensorBoardLog(dir).Histograms(net, 1));
        Assert.Equal(["parameters/bias"], EventFiles.ReadFolder(dir).SelectMany(e => e.Values).Select(v => v.Tag));
    }

    [Fact]
    public void Histograms_OfFiniteValuesBeyondTheBuckets_CountThemInTheOutermostBuckets()
    {
        string dir = TestEnvironment.NewTempDir();
        var net = nn.Linear(2, 2);
        using (no_grad())
        {
            net.weight!.fill_(1e30);
            net.bias!.fill_(-3e38);
        } // vanishing --lr 1e30 reaches such weights
        Assert.Equal(0, new TensorBoardLog(dir).Histograms(net, 1)); // before: "The histogram is empty"
        var histograms = EventFiles
            .ReadFolder(dir)
            .SelectMany(e => e.Values)
            .ToDictionary(v => v.Tag, v => v.Histogram!);
        Assert.Equal(4, histograms["parameters/weight"].Counts.Sum());
        Assert.Equal(2, histograms["parameters/bias"].Counts.Sum());
    }

    static Dictionary<string, List<(long Step, EventValue Value)>> ByTag(string dir) =>
        EventFiles
            .ReadFolder(dir)
            .SelectMany(e => e.Values.Select(v => (e.Step, v)))
            .GroupBy(x => x.v.Tag)
            .ToDictionary(g => g.Key, g => g.ToList());

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cifar10_TensorBoard_CarriesTheRunsNumbers()
    {
        string data = TestEnvironment.NewTempDir(),
            outDir = TestEnvironment.NewTempDir(),
            board = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 8, test: 12, seed: 5);
        using var doc = TestEnvironment.InProcessJson(
            "cifar10",
            "--data",
            data,
            "--out",
            outDir,
            "--epochs",
            "2",
            "--log-every",
            "2",
            "--threads",
            "1",
            "--format",
            "json",
            "--limit-train",
            "16",
            "--tensorboard",
            board
        );
        var root = doc.RootElement;
        Assert.Equal(Path.GetFullPath(board), root.GetProperty("tensorboard").GetString());
        var tags = ByTag(board);
        // The loss at every log line, at x = mini-batches seen: 16 images / batch 4 = 4 batches an epoch, a line every
        // 2.
        var curve = root.GetProperty("lossCurve").EnumerateArray().ToList();
        Assert.Equal(curve.Count, tags["train/loss"].Count);
        foreach (var (point, (step, v)) in curve.Zip(tags["train/loss"]))
        {
            Assert.Equal((point.GetProperty("epoch").GetInt32() - 1) * 4 + point.GetProperty("batch").GetInt32(), step);
            Assert.Equal((float)point.GetProperty("loss").GetDouble(), v.Simple);
        }
        Assert.Equal([1L, 2L], tags["test/accuracy"].Select(t => t.Step));
        Assert.Equal((float)root.GetProperty("accuracy").GetDouble(), tags["test/accuracy"][^1].Value.Simple);
        Assert.All(tags["train/learning_rate"], t => Assert.Equal(0.001f, t.Value.Simple));
        foreach (string name in new[] { "conv1.weight", "conv1.bias", "conv2.weight", "fc1.weight", "fc3.bias" })
        {
            Assert.Equal([1L, 2L], tags["parameters/" + name].Select(t => t.Step));
            Assert.Equal([1L, 2L], tags["gradients/" + name].Select(t => t.Step));
        }
        Assert.Equal(6 * 3 * 5 * 5, tags["parameters/conv1.weight"][0].Value.Histogram!.Num);
        var image = Assert.Single(tags["test/predictions"]).Value;
        Assert.Equal(0x89, image.ImagePng![0]);
        Assert.Contains("62,006", Assert.Single(Assert.Single(tags["model/summary/text_summary"]).Value.Strings));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void FashionMnist_TensorBoard_OneRunPerOptimizer_WithTheJsonsCurves()
    {
        string board = TestEnvironment.NewTempDir(),
            outDir = TestEnvironment.NewTempDir();
        // Real Fashion-MNIST (Debian's dataset-fashion-mnist, found when --data has none).
        using var doc = TestEnvironment.InProcessJson(
            "fashion-mnist",
            "--data",
            TestEnvironment.NewTempDir(),
            "--optimizer",
            "sgd",
            "--train",
            "64",
            "--test",
            "16",
            "--epochs",
            "3",
            "--out",
            outDir,
            "--threads",
            "1",
            "--format",
            "json",
            "--tensorboard",
            board
        );
        var run = doc.RootElement.GetProperty("runs")[0];
        var tags = ByTag(Path.Combine(board, "sgd"));
        Assert.Equal(
            run.GetProperty("trainLoss").EnumerateArray().Select(e => (float)e.GetDouble()),
            tags["train/loss"].Select(t => t.Value.Simple!.Value)
        );
        Assert.Equal(
            run.GetProperty("testAccuracyCurve").EnumerateArray().Select(e => (float)e.GetDouble()),
            tags["test/accuracy"].Select(t => t.Value.Simple!.Value)
        );
        Assert.Equal([1L, 2L, 3L], tags["parameters/layers.fc1.weight"].Select(t => t.Step));
        Assert.Equal([1L, 2L, 3L], tags["gradients/layers.fc2.bias"].Select(t => t.Step));
        Assert.Single(tags["test/predictions"]);
        Assert.Single(tags["model/summary/text_summary"]);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Vanishing_TensorBoard_LossAtEveryStep_AndTheNormsPerLayer()
    {
        string board = TestEnvironment.NewTempDir(),
            outDir = TestEnvironment.NewTempDir();
        using var doc = TestEnvironment.InProcessJson(
            "vanishing",
            "--depth",
            "6",
            "--train-depths",
            "3",
            "--steps",
            "20",
            "--out",
            outDir,
            "--threads",
            "1",
            "--format",
            "json",
            "--tensorboard",
            board
        );
        var root = doc.RootElement;
        foreach (var run in root.GetProperty("training").GetProperty("runs").EnumerateArray())
        {
            var tags = ByTag(Path.Combine(board, $"{run.GetProperty("stack").GetString()}-3"));
            var loss = run.GetProperty("loss").EnumerateArray().Select(e => (float)e.GetDouble()).ToList();
            Assert.Equal(loss, tags["train/loss"].Select(t => t.Value.Simple!.Value));
            Assert.Equal(Enumerable.Range(1, loss.Count).Select(i => (long)i), tags["train/loss"].Select(t => t.Step));
            Assert.Equal(
                [2L, 4L, 6L, 8L, 10L, 12L, 14L, 16L, 18L, 20L],
                tags["gradients/head.weight"].Select(t => t.Step)
            );
        }
        var norms = ByTag(Path.Combine(board, "norms-sigmoid"));
        Assert.Equal(
            root.GetProperty("gradNorms").GetProperty("sigmoid").EnumerateArray().Select(e => (float)e.GetDouble()),
            norms["gradient_norm/weight"].Select(t => t.Value.Simple!.Value)
        );
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), norms["gradient_norm/weight"].Select(t => t.Step));
    }

    [Fact]
    public void TensorBoardOption_OnAFile_IsRefusedBeforeAnyWork()
    {
        string file = Path.Combine(TestEnvironment.NewTempDir(), "f");
        File.WriteAllText(file, "");
        var r = TestEnvironment.RunInProcess("vanishing", "--tensorboard", file);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--tensorboard", r.StdErr);
        Assert.Single(r.StdErr.Trim().Split('\n'));
    }
}
