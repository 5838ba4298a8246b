using System.Diagnostics;
using System.Globalization;
using TorchLabs.Checkpoints;
using TorchLabs.Data;
using TorchLabs.Functions;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>Options of the Fashion-MNIST exercise (notes 002): MLP [784, 28, 10], 5000 training and 1000 test
/// images.</summary>
public sealed record FashionMnistOptions
{
    public required string DataDir { get; init; }
    public string Dataset { get; init; } = "fashion-mnist";
    public string[] Optimizers { get; init; } = ["gd", "sgd", "adam"];
    public string Activation { get; init; } = "sigmoid";
    public int Hidden { get; init; } = 28;
    public int Train { get; init; } = 5000;
    public int Test { get; init; } = 1000;
    public int BatchSize { get; init; } = 32;
    public int? Epochs { get; init; }
    public double? LearningRate { get; init; }
    public long Seed { get; init; } = Seeds.Default;
    public bool Download { get; init; }

    /// <summary>Where each optimizer's checkpoint (checkpoint-OPTIMIZER.dat) is written after every epoch; null: no
    /// checkpoints.</summary>
    public string? OutDir { get; init; }

    /// <summary>Continue each optimizer from its checkpoint in <see cref="OutDir"/>; <see cref="Epochs"/> is the
    /// total.</summary>
    public bool Resume { get; init; }

    /// <summary>torch (libtorch's backward) or hand: the MLP's layers and the loss as custom autograd Functions with
    /// the hand backward.</summary>
    public string Impl { get; init; } = Runtime.Impl.Torch;

    /// <summary>TensorBoard event files (<c>--tensorboard DIR</c>), one run per optimizer (DIR/gd, DIR/sgd, DIR/adam):
    /// training loss, test accuracy and learning rate per epoch, histograms of every parameter and gradient per epoch,
    /// the first test images with their predictions, the model summary.</summary>
    public string? TensorBoardDir { get; init; }

    /// <summary>Called once, after the first training step, with the MLP's summary (the CLI prints it).</summary>
    public Action<ModelSummary>? OnTrainingStart { get; init; }

    /// <summary>Defaults per optimizer: GD full batch lr 1.0 for 300 epochs; SGD lr 0.1 and Adam lr 0.001 on
    /// mini-batches for 20 epochs.</summary>
    public (int Epochs, double Lr) For(string optimizer) =>
        optimizer switch
        {
            "gd" => (Epochs ?? 300, LearningRate ?? 1.0),
            "sgd" => (Epochs ?? 20, LearningRate ?? 0.1),
            "adam" => (Epochs ?? 20, LearningRate ?? 0.001),
            _ => throw new UsageException($"‹optimizer› {optimizer}: expected gd, sgd or adam"),
        };

    public void Validate()
    {
        foreach (string o in Optimizers)
            For(o);
        if (Activation is not ("sigmoid" or "relu" or "tanh"))
            throw new UsageException($"‹activation› {Activation}: expected sigmoid, relu or tanh");
        Require.WholeNumber(Train, "train");
        Require.WholeNumber(Test, "test");
        Require.WholeNumber(BatchSize, "batch-size", max: 60_000); // the training set's size
        Require.WholeNumber(Hidden, "hidden");
        // float32 weights, gradients and Adam's two moments, and the hidden activations of every image (forward,
        // backward, evaluation).
        MemoryBudget.Require(
            4.0 * (4 * (784.0 * Hidden + 11.0 * Hidden) + 3.0 * ((double)Train + Test) * Hidden),
            $"‹hidden› {Hidden}"
        );
        Require.WholeNumber(Epochs, "epochs");
        if (LearningRate is double lr)
            Require.LearningRate(lr);
        Runtime.Impl.Require(Impl, Runtime.Impl.Torch, Runtime.Impl.Hand);
        if (Dataset is not ("fashion-mnist" or "mnist"))
            throw new UsageException($"‹dataset› {Dataset}: expected fashion-mnist or mnist");
    }
}

/// <summary>One optimizer's run: per-epoch training loss and test accuracy, and the final metrics.</summary>
public sealed record OptimizerRun(
    string Optimizer,
    int Epochs,
    double Lr,
    double[] TrainLoss,
    double[] TestAccuracy,
    ClassificationMetrics Metrics,
    double Seconds
);

public sealed record FashionMnistResult(
    MnistLocation Location,
    int Train,
    int Test,
    IReadOnlyList<OptimizerRun> Runs,
    string[] ClassNames
);

/// <summary>
/// Notes 002's exercise: an MLP [784, 28, 10] (sigmoid hidden units) on 5000 training and 1000 test images, trained
/// with GD (full batch), SGD (mini-batches) and Adam, each by the hand optimizers of Optimizers/ (GD and SGD are the
/// same update, θ ← θ − η g, on the full batch or on mini-batches). Softmax cross-entropy loss. Metrics by
/// Microsoft.ML.
/// </summary>
public static partial class FashionMnistLab
{
    /// <summary>The document's reported "precision" (correct / total on its test set): GD 0.69, SGD 0.79.</summary>
    public static readonly Dictionary<string, double> NotesReported = new() { ["gd"] = 0.69, ["sgd"] = 0.79 };

    public static MnistLocation Find(FashionMnistOptions o, IProgress<DownloadProgress>? progress = null)
    {
        var location = FashionMnist.Locate(o.DataDir, o.Dataset);
        if (location is null && o.Download && o.Dataset == "fashion-mnist")
            location = FashionMnist.Download(o.DataDir, progress);
        if (location is null)
        {
            string looked = string.Join(", ", FashionMnist.Candidates(o.DataDir, o.Dataset).Select(c => c.Folder));
            throw new UsageException(
                o.Dataset == "fashion-mnist"
                    ? $"no Fashion-MNIST IDX files in {looked}; install them with `apt-get install dataset-fashion-mnist` or run with ‹download›"
                    : $"no MNIST IDX files (train-images-idx3-ubyte[.gz] and the other three) in {looked}"
            );
        }
        if (o.Dataset == "fashion-mnist" && !location.Verified)
        {
            FashionMnist.Verify(location);
            location = location with { Verified = true };
        }
        return location;
    }

    public static FashionMnistResult Run(FashionMnistOptions o, IProgress<string>? progress = null)
    {
        o.Validate();
        var location = Find(o);
        var train = FashionMnist.Load(location, true).Take(o.Train);
        var test = FashionMnist.Load(location, false).Take(o.Test);
        using var scope = NewDisposeScope();
        var xTrain = tensor(train.Pixels, [train.Count, train.PixelsPerImage]).to_type(ScalarType.Float32).div_(255);
        var yTrain = tensor(train.Labels.Select(b => (long)b).ToArray());
        var xTest = tensor(test.Pixels, [test.Count, test.PixelsPerImage]).to_type(ScalarType.Float32).div_(255);
        int[] yTest = test.Labels.Select(b => (int)b).ToArray();
        bool started = false; // the summary after the first step: data read, checkpoints (if any) accepted
        void Started()
        {
            if (!started)
            {
                started = true;
                o.OnTrainingStart?.Invoke(Summary(o));
            }
        }
        var runs = o
            .Optimizers.Select(opt => TrainOne(o, opt, new(xTrain, yTrain, xTest, yTest, test), progress, Started))
            .ToList();
        return new FashionMnistResult(
            location,
            train.Count,
            test.Count,
            runs,
            o.Dataset == "mnist" ? FashionMnist.DigitNames : FashionMnist.ClassNames
        );
    }

    /// <summary>What one training step needs: the MLP, its optimizer, the training set, the backward (hand or
    /// torch), the checkpoint that ends a diverged run.</summary>
    sealed record Stepper(Mlp Net, HandOptimizer Opt, Tensor X, Tensor Y, bool Hand, TrainingCheckpoint Checkpoint);

    /// <summary>
    /// One epoch of notes 002's exercise: gd takes the whole set in order (<paramref name="shuffle"/> null); sgd and
    /// adam a fresh shuffle each epoch, in mini-batches. Returns the epoch's mean loss.
    /// </summary>
    static double Epoch(Stepper s, Generator? shuffle, int batch, int epoch)
    {
        int n = (int)s.X.shape[0];
        long[] order;
        using (var perm = shuffle is null ? arange(n) : randperm(n, generator: shuffle))
            order = perm.data<long>().ToArray();
        double sum = 0;
        for (int i = 0, start = 0; start < n; i++, start += batch)
        {
            using var step = NewDisposeScope(); // frees this step's tensors
            var idx = tensor(order[start..Math.Min(start + batch, n)]);
            s.Opt.zero_grad();
            var logits = s.Net.call(s.X.index_select(0, idx));
            var loss = s.Hand
                ? SoftmaxCrossEntropyFunction.ApplyLabels(logits, s.Y.index_select(0, idx))
                : nn.functional.cross_entropy(logits, s.Y.index_select(0, idx));
            float value = loss.item<float>();
            s.Checkpoint.StopIfDiverged(value, epoch, i);
            loss.backward();
            s.Opt.step();
            sum += value * idx.shape[0];
        }
        return sum / n;
    }

    /// <summary>TensorBoard's records of an epoch: the loss, the test accuracy, the learning rate,
    /// histograms.</summary>
    static void AfterEpoch(TensorBoardLog? board, Mlp net, TrainingRecord record, double lr, int epoch)
    {
        if (board is null)
            return;
        board.Scalar("train/loss", record.EpochLoss[epoch], epoch + 1);
        board.Scalar("test/accuracy", record.EpochMetric[epoch], epoch + 1);
        board.Scalar("train/learning_rate", lr, epoch + 1);
        board.Histograms(net, epoch + 1);
    }

    /// <summary>The training images and labels as tensors, and the test set (tensor, labels, images).</summary>
    sealed record Sets(Tensor X, Tensor Y, Tensor XTest, int[] YTest, ImageSet Test);

    static OptimizerRun TrainOne(
        FashionMnistOptions o,
        string name,
        Sets d,
        IProgress<string>? progress,
        Action started
    )
    {
        var (x, y, xTest, yTest) = (d.X, d.Y, d.XTest, d.YTest);
        var sw = Stopwatch.StartNew();
        var (epochs, lr) = o.For(name);
        var board = o.TensorBoardDir is null ? null : new TensorBoardLog(Path.Combine(o.TensorBoardDir, name));
        board?.Text("model/summary", TensorBoardLog.Code(Summary(o).ToText()), 0);
        using var gen = new Generator((ulong)o.Seed);
        using var shuffle = new Generator((ulong)o.Seed + 1);
        bool hand = o.Impl == Runtime.Impl.Hand;
        using var net = new Mlp([(int)x.shape[1], o.Hidden, 10], o.Activation, gen, handBackward: hand);
        using HandOptimizer opt = name == "adam" ? new Adam(net.parameters(), lr) : new Gd(net.parameters(), lr);
        int n = (int)x.shape[0],
            batch = name == "gd" ? n : Math.Min(o.BatchSize, n);
        var checkpoint = new TrainingCheckpoint
        {
            Kind = "fashion-mnist-" + name,
            Path = o.OutDir is null ? null : Path.Combine(o.OutDir, $"checkpoint-{name}.dat"),
            Settings = Settings(o, n, batch),
            LearningRate = lr,
            Model = net,
            Optimizer = opt.Hooks(),
            Generator = shuffle,
        };
        var record = checkpoint.Start(o.Resume, epochs, line => progress?.Report(line));
        started();
        for (int epoch = record.EpochsDone; epoch < epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            net.train();
            double loss = Epoch(new(net, opt, x, y, hand, checkpoint), name == "gd" ? null : shuffle, batch, epoch);
            record.EndEpoch(loss, clock.Elapsed.TotalSeconds, Accuracy(net, xTest, yTest));
            checkpoint.Save(record);
            AfterEpoch(board, net, record, lr, epoch);
            if (epoch % Math.Max(1, epochs / 20) == 0)
                progress?.Report(
                    $"{name}: epoch {epoch + 1}/{epochs}, loss {loss:F4}, test accuracy {record.EpochMetric[epoch]:P1}"
                );
        }
        if (o.OutDir is not null)
            Save(net, o.OutDir, name);
        var probs = Probabilities(net, xTest);
        board?.Image("test/predictions", FirstPredictions(d.Test, probs, o).Render!(), epochs);
        return new OptimizerRun(
            name,
            epochs,
            lr,
            [.. record.EpochLoss],
            [.. record.EpochMetric],
            Metrics.Evaluate(yTest, probs, 10),
            sw.Elapsed.TotalSeconds
        );
    }

    /// <summary>The trained MLP in PyTorch's format (keys layers.fc1.weight … layers.fc2.bias) and as
    /// safetensors.</summary>
    static void Save(Mlp net, string outDir, string name)
    {
        ModelFiles.SavePth(net, Path.Combine(outDir, $"mlp-{name}.pth"));
        ModelFiles.SaveSafetensors(net, Path.Combine(outDir, $"mlp-{name}.safetensors"));
    }

    /// <summary>The settings that shape one optimizer's run, stored in its checkpoint (the learning rate may change on
    /// resume).</summary>
    static KeyValuePair<string, string>[] Settings(FashionMnistOptions o, int train, int batch) =>
        [
            new(Setting.Of("dataset"), o.Dataset),
            new("training images", train.ToString(CultureInfo.InvariantCulture)),
            new("batch", batch.ToString(CultureInfo.InvariantCulture)),
            new(Setting.Of("seed"), o.Seed.ToString(CultureInfo.InvariantCulture)),
            new(Setting.Of("activation"), o.Activation),
            new(Setting.Of("hidden"), o.Hidden.ToString(CultureInfo.InvariantCulture)),
        ];

    /// <summary>Softmax probabilities of the test images in one pass (<see cref="Inference.Probabilities"/>).</summary>
    static float[][] Probabilities(nn.Module<Tensor, Tensor> net, Tensor x) =>
        Inference.Probabilities(net, (start, count) => x.narrow(0, start, count), (int)x.shape[0], (int)x.shape[0]);

    static double Accuracy(nn.Module<Tensor, Tensor> net, Tensor x, int[] y)
    {
        var p = Probabilities(net, x);
        return p.Select((v, i) => Metrics.ArgMax(v) == y[i] ? 1.0 : 0.0).Average();
    }

    /// <summary>The run as `--format json` prints it: one object from the settings, the model's summary and the result
    /// record.</summary>
    public static object ToJson(FashionMnistOptions o, ModelSummary summary, FashionMnistResult r) =>
        new
        {
            summary = summary.ToJson(),
            dataset = o.Dataset,
            impl = o.Impl,
            source = r.Location.Folder,
            train = r.Train,
            test = r.Test,
            runs = r.Runs.Select(run => new
            {
                optimizer = run.Optimizer,
                epochs = run.Epochs,
                lr = run.Lr,
                testAccuracy = run.Metrics.MicroAccuracy,
                macroPrecision = run.Metrics.MacroPrecision,
                macroRecall = run.Metrics.MacroRecall,
                logLoss = run.Metrics.LogLoss,
                confusion = run.Metrics.Confusion,
                trainLoss = run.TrainLoss,
                testAccuracyCurve = run.TestAccuracy,
                seconds = run.Seconds,
            }),
        };

    /// <summary>torchinfo's summary of the MLP for one mini-batch.</summary>
    public static ModelSummary Summary(FashionMnistOptions o)
    {
        using var gen = new Generator(0);
        using var net = new Mlp([784, o.Hidden, 10], o.Activation, gen);
        return ModelSummary.Of(net, [o.BatchSize, 784]);
    }

    /// <summary>The first eight test images with ground truth / predicted class.</summary>
    static Figure FirstPredictions(ImageSet test, float[][] probs, FashionMnistOptions o)
    {
        string[] names = o.Dataset == "mnist" ? FashionMnist.DigitNames : FashionMnist.ClassNames;
        int n = Math.Min(8, test.Count),
            size = test.PixelsPerImage;
        return Plots.ImageGrid(
            Enumerable
                .Range(0, n)
                .Select(i =>
                {
                    byte[] gray = test.Pixels.AsSpan(i * size, size).ToArray();
                    return (
                        Chw: (byte[])[.. gray, .. gray, .. gray],
                        Caption: $"{names[test.Labels[i]]} / {names[Metrics.ArgMax(probs[i])]}"
                    );
                })
                .ToList(),
            test.Rows,
            test.Cols,
            "fashion-mnist-test-images",
            "The first test images: ground truth / predicted"
        );
    }

    static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
}
