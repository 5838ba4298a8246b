using System.Globalization;
using System.Diagnostics;
using TorchLabs.Data;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchLabs.Reporting;
using TorchLabs.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Labs;

/// <summary>Options of the CIFAR-10 tutorial run; the defaults are the tutorial's.</summary>
public sealed record Cifar10Options
{
    public required string DataDir { get; init; }
    public required string OutDir { get; init; }
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 4;
    public double LearningRate { get; init; } = 0.001;
    public double Momentum { get; init; } = 0.9;
    public long Seed { get; init; } = 1;
    public int LogEvery { get; init; } = 2000;
    public int? LimitTrain { get; init; }
    public int? LimitTest { get; init; }
    public Device? Device { get; init; }
    /// <summary>
    /// The training step: "autograd" (the default: the tutorial's forward through TorchSharp's modules, loss.backward()) or
    /// "fast" (the hand-written float32 step of Fast/, equal to it to float32 rounding). Stored in the checkpoint.
    /// </summary>
    public string Impl { get; init; } = "autograd";
    /// <summary>Continue from OUT/checkpoint.dat (written at the end of every epoch); <see cref="Epochs"/> is the total.</summary>
    public bool Resume { get; init; }
    /// <summary>A model to evaluate instead of training (.pth, .safetensors or TorchSharp's format, told apart by content).</summary>
    public string? Load { get; init; }
    /// <summary>Called once, after the first training step (the data read, a checkpoint accepted), with the Net's summary for one
    /// batch.</summary>
    public Action<ModelSummary>? OnTrainingStart { get; init; }
    /// <summary>Called after each epoch's checkpoint is written (tests watch memory through it).</summary>
    public Action<int>? OnEpochEnd { get; init; }
    /// <summary>TensorBoard event files (<c>--tensorboard DIR</c>): the loss at every log line, the learning rate and the test accuracy
    /// after every epoch, histograms of every parameter and gradient, the first test images with their predictions, the summary.</summary>
    public string? TensorBoardDir { get; init; }

    /// <summary>Throws <see cref="UsageException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new UsageException($"--epochs {Epochs}: expected a whole number of at least 1");
        if (BatchSize < 1) throw new UsageException($"--batch-size {BatchSize}: expected a whole number of at least 1");
        if (!double.IsFinite(LearningRate)
            || LearningRate <= 0) throw new UsageException($"--lr {LearningRate}: expected a finite number greater than 0");
        if (!double.IsFinite(Momentum) || Momentum < 0
            || Momentum >= 1) throw new UsageException($"--momentum {Momentum}: expected a number in [0, 1)");
        if (LogEvery < 1) throw new UsageException($"--log-every {LogEvery}: expected a whole number of at least 1");
        if (LimitTrain is < 1) throw new UsageException($"--limit-train {LimitTrain}: expected a whole number of at least 1");
        if (Impl is not ("autograd" or "fast")) throw new UsageException($"--impl {Impl}: expected autograd (the default) or fast");
        if (LimitTest is < 1) throw new UsageException($"--limit-test {LimitTest}: expected a whole number of at least 1");
        if (Load is not null
            && Resume) throw new UsageException("--load and --resume: give one (--load evaluates a saved model; --resume continues " +
            "training)");
    }
}

/// <summary>One logged point of the training loss: the running mean over the last LogEvery mini-batches.</summary>
public sealed record LossPoint(int Epoch, int Batch, double Loss);

/// <summary>What the CIFAR-10 run measured.</summary>
/// <param name="Accuracy">Test accuracy in percent (correct / total * 100).</param>
/// <param name="PerClass">Per-class test accuracy in percent (NaN for a class with no test image).</param>
public sealed record Cifar10Result(
    double Accuracy, int Correct, int Total, IReadOnlyDictionary<string, double> PerClass,
    IReadOnlyList<LossPoint> LossCurve, string ModelPath, double Seconds, IReadOnlyList<double> EpochSeconds,
    ClassificationMetrics Metrics, IReadOnlyList<string> Log, IReadOnlyList<Figure> Figures)
{
    /// <summary>How many training images the run used (all five batches, or --limit-train).</summary>
    public int TrainImages { get; init; }
    /// <summary>The folder the batches were read from.</summary>
    public string Folder { get; init; } = "";
    /// <summary>OUT/cifar_net.pth, the model in PyTorch's format (null when the run loaded a model instead of training).</summary>
    public string? PthPath { get; init; }
    /// <summary>The first four test images: ground truth and predicted class.</summary>
    public IReadOnlyList<(string GroundTruth, string Predicted)> FirstFour { get; init; } = [];
}

/// <summary>
/// PyTorch's CIFAR-10 tutorial ("Training a classifier"), in C#: the tutorial's Net, CrossEntropyLoss, SGD with
/// lr 0.001 and momentum 0.9, batch 4, 2 epochs, the training set shuffled each epoch by a seeded generator, and
/// the tutorial's printed lines in its format.
/// </summary>
public static class Cifar10Lab
{
    /// <summary>The checkpoint's file name in the output folder.</summary>
    public const string CheckpointName = "checkpoint.dat";

    /// <summary>The tutorial's loss line: <c>[1,  2000] loss: 2.144</c>.</summary>
    public static string LossLine(int epoch, int batch, double loss) => $"[{epoch}, {batch,5}] loss: {loss:F3}";

    /// <summary>The tutorial's overall line: integer percent (100 * correct // total) and the count of test images.</summary>
    public static string AccuracyLine(int correct, int total) =>
        $"Accuracy of the network on the {total} test images: {100L * correct / total} %";

    /// <summary>The tutorial's per-class line: class name padded to 5, one decimal.</summary>
    public static string ClassLine(string name, double percent) =>
        $"Accuracy for class: {name,-5} is {(double.IsNaN(percent) ? "n/a" : percent.ToString("F1"))} %";

    /// <summary>The settings that shape a run, stored in its checkpoint (the learning rate may change on resume; the log says
    /// so).</summary>
    static KeyValuePair<string, string>[] Settings(Cifar10Options o, int trainCount) =>
    [
        new("--batch-size", o.BatchSize.ToString(CultureInfo.InvariantCulture)), new("training images",
            trainCount.ToString(CultureInfo.InvariantCulture)),
        new("--seed", o.Seed.ToString(CultureInfo.InvariantCulture)), new("--momentum", o.Momentum.ToString("R",
            CultureInfo.InvariantCulture)),
        new("--impl", o.Impl),
    ];

    public static Cifar10Result Run(Cifar10Options o, Action<string>? log = null, IProgress<string>? progress = null)
    {
        o.Validate();
        var device = o.Device ?? CPU;
        string folder = Cifar10.Locate(o.DataDir)
            ?? throw new UsageException($"{Path.GetFullPath(o.DataDir)}: no CIFAR-10 here (expected {Cifar10.FolderName}/ with " +
                $"{Cifar10.TrainFiles[0]} and {Cifar10.TestFile}); fetch it with `torchlabs cifar10 --download --data {o.DataDir}`");
        var lines = new List<string>();
        void Log(string line) { lines.Add(line); log?.Invoke(line); }

        var total = Stopwatch.StartNew();
        progress?.Report("reading CIFAR-10");
        var test = Cifar10.Load(folder, train: false, o.LimitTest);
        Directory.CreateDirectory(o.OutDir);
        using var folderLock = OutputFolder.Lock(o.OutDir);   // one run per output folder; stale temporaries of dead runs removed
        var figures = new List<Figure>();
        var board = o.TensorBoardDir is null ? null : new TensorBoardLog(o.TensorBoardDir);
        board?.Text("model/summary", TensorBoardLog.Code(Summary(o.BatchSize).ToText()), 0);
        using var initGen = new Generator((ulong)o.Seed);
        using var net = new CifarNet(initGen);
        IReadOnlyList<LossPoint> curve = [];
        IReadOnlyList<double> epochSeconds = [];
        int trainCount = 0, batches = 0;
        string modelPath;
        if (o.Load is string load)
        {
            // The tutorial's "load": net = Net(); net.load_state_dict(torch.load(PATH)); .pth, safetensors or TorchSharp's format.
            var format = ModelFiles.Load(net, load, "the tutorial's Net");
            progress?.Report($"loaded {load} ({ModelFiles.Name(format)})");
            modelPath = Path.GetFullPath(load);
            net.to(device);
        }
        else
        {
            var (trainPixels, trainLabels) = Cifar10.LoadTensor(folder, train: true, o.LimitTrain);
            using (trainPixels)
            {
                trainCount = trainLabels.Length;
                byte[] first = trainPixels.bytes[..(Math.Min(8, trainCount) * Cifar10.RecordPixels)].ToArray();
                figures.Add(Plots.ImageGrid(Enumerable.Range(0, Math.Min(8, trainCount))
                    .Select(i => (first.AsSpan(i * Cifar10.RecordPixels, Cifar10.RecordPixels).ToArray(),
                        Cifar10.ClassNames[trainLabels[i]])).ToList(),
                    32, 32, "cifar10-images", "The first training images with their labels (the tutorial's imshow)"));
                var record = Train(o, net, trainPixels, trainLabels, test, board, device, log, progress);
                lines.AddRange(record.Log);
                curve = record.Curve;
                epochSeconds = record.EpochSeconds;
                batches = (trainCount + o.BatchSize - 1) / o.BatchSize;
            }
            Log("Finished Training");
            // The tutorial's "save": torch.save(net.state_dict(), './cifar_net.pth'); also safetensors and TorchSharp's format.
            modelPath = Path.Combine(o.OutDir, "cifar_net.dat");
            AtomicFile.Write(modelPath, tmp => net.save(tmp));
            ModelFiles.SavePth(net, Path.Combine(o.OutDir, PthName));
            ModelFiles.SaveSafetensors(net, Path.Combine(o.OutDir, "cifar_net.safetensors"));
        }

        progress?.Report("testing");
        var (predicted, probabilities) = Predict(net, test, device);
        // The tutorial's "test the network on the test data": the first four test images, their labels and the predictions.
        int few = Math.Min(4, test.Count);
        Log(GroundTruthLine(test.Labels.Take(few).Select(l => (int)l)));
        Log(PredictedLine(predicted.Take(few)));
        figures.Add(Plots.ImageGrid(Enumerable.Range(0, few)
            .Select(i => (test.Pixels.AsSpan(i * Cifar10.RecordPixels, Cifar10.RecordPixels).ToArray(),
                $"{Cifar10.ClassNames[test.Labels[i]]} / {Cifar10.ClassNames[predicted[i]]}")).ToList(),
            32, 32, "cifar10-test-images",
                "The first four test images: ground truth / predicted (the tutorial's \"test the network on the test data\")", columns: 4));
        int correct = Correct(predicted, test);
        Log(AccuracyLine(correct, test.Count));
        if (board is not null)
        {
            int step = o.Load is null ? o.Epochs : 0;
            board.Image("test/predictions", figures[^1].Render!(), step);
            if (o.Load is not null) board.Scalar("test/accuracy", 100.0 * correct / test.Count, step);
        }
        var perClass = new Dictionary<string, double>();
        for (int c = 0; c < Cifar10.ClassNames.Length; c++)
        {
            int n = test.Labels.Count(l => l == c);
            int hit = predicted.Where((p, i) => p == c && test.Labels[i] == c).Count();
            double percent = n == 0 ? double.NaN : 100.0 * hit / n;
            perClass[Cifar10.ClassNames[c]] = percent;
            Log(ClassLine(Cifar10.ClassNames[c], percent));
        }

        var metrics = Metrics.Evaluate(test.Labels.Select(l => (int)l).ToArray(), probabilities, Cifar10.ClassNames.Length);
        if (curve.Count > 0)
            figures.Add(Figures.Of(Plots.Curves("CIFAR-10 training loss", "mini-batches seen", "running cross-entropy loss",
                [("train loss (mean over the last " + o.LogEvery + " mini-batches)",
                  curve.Select(p => (double)((p.Epoch - 1) * batches + p.Batch)).ToArray(), curve.Select(p => p.Loss).ToArray())]),
                      "cifar10-loss", "Training loss, averaged over each logging interval"));
        figures.Add(Figures.Of(Plots.ConfusionMatrix(metrics.Confusion, Cifar10.ClassNames, "CIFAR-10 test confusion matrix"),
            "cifar10-confusion", "Confusion matrix on the test images (rows: true class, columns: predicted)", 760, 680));

        return new Cifar10Result(100.0 * correct / test.Count, correct, test.Count, perClass, curve, modelPath,
            total.Elapsed.TotalSeconds, epochSeconds, metrics, lines, figures)
        {
            TrainImages = trainCount, Folder = folder, PthPath = o.Load is null ? Path.Combine(o.OutDir, PthName) : null,
            FirstFour = [.. Enumerable.Range(0, few).Select(i => (Cifar10.ClassNames[test.Labels[i]], Cifar10.ClassNames[predicted[i]]))],
        };
    }

    /// <summary>The tutorial's training loop through the one driver (<see cref="Trainer"/>): SGD, cross-entropy, its loss lines every
    /// LogEvery batches.</summary>
    static TrainingRecord Train(Cifar10Options o, CifarNet net, Tensor trainPixels, byte[] labels, Cifar10Set test, TensorBoardLog? board,
        Device device, Action<string>? log, IProgress<string>? progress)
    {
        double running = 0;
        bool started = false;
        int count = labels.Length;   // the pixels stay bytes (150 MB for CIFAR-10); each batch is normalised on the fly
        using var batcher = new Cifar10Batcher(trainPixels, labels);   // no libtorch call per batch; the same numbers as Normalize
        bool onCpu = device.type == DeviceType.CPU;
        using var shuffleGen = new Generator((ulong)o.Seed + 1);
        net.to(device);
        // The tutorial's criterion = nn.CrossEntropyLoss() and optimizer = optim.SGD(net.parameters(), lr, momentum); the SGD in
        // its fused form (one pass over one buffer; the same numbers as torch.optim.SGD, bit for bit: Optimizers/FlatSgd.cs).
        var criterion = nn.CrossEntropyLoss();
        using var optimizer = new FlatSgd([.. net.parameters()], o.LearningRate, o.Momentum);
        var fast = o.Impl == "fast" ? new Fast.CifarNetFastStep(net) : null;   // --impl fast only: the hand step (Fast/)
        var trainer = new Trainer
        {
            Kind = "cifar10", CheckpointPath = Path.Combine(o.OutDir, CheckpointName), Settings = Settings(o, count), KeepsTimes = true,
            // Older checkpoints: made before --impl (either step resumes them: they agree to float32 rounding), and with --lanes,
            // which is gone (one lane is this step; two lanes are refused).
            SettingsBefore = new Dictionary<string, string> { ["--impl"] = o.Impl },
            RetiredSettings = new Dictionary<string, string> { ["--lanes"] = "1" },
            Epochs = o.Epochs, Count = count, BatchSize = o.BatchSize, LearningRate = o.LearningRate,
            Model = net, Optimizer = OptimizerHooks.For(optimizer), ShuffleGenerator = shuffleGen,
            // The tutorial's step; the Trainer calls optimizer.zero_grad() before and optimizer.step() after.
            LossBackward = batch =>
            {
                var (inputs, targets) = batcher.Batch(batch.Indices);
                if (!onCpu) (inputs, targets) = (inputs.to(device), targets.to(device));
                if (fast is not null) return fast.LossBackward(inputs, targets);
                var outputs = net.call(inputs);
                var loss = criterion.call(outputs, targets);
                loss.backward();
                return loss.item<float>();
            },
            OnBatch = (b, rec) =>
            {
                if (!started)
                {
                    started = true;   // after the first step: data read, checkpoint (if any) accepted; the summary's Net is a fresh one
                    o.OnTrainingStart?.Invoke(Summary(o.BatchSize));
                }
                running += b.Loss;
                if (b.Batch % o.LogEvery == o.LogEvery - 1)
                {
                    double mean = running / o.LogEvery;
                    string line = LossLine(b.Epoch + 1, b.Batch + 1, mean);
                    rec.Curve.Add(new LossPoint(b.Epoch + 1, b.Batch + 1, mean));
                    rec.Log.Add(line);
                    log?.Invoke(line);
                    board?.Scalar("train/loss", mean, b.Epoch * b.Batches + b.Batch + 1);   // x: mini-batches seen
                    running = 0;
                }
                if (b.Batch == b.Batches - 1) running = 0;
                if (b.Batch % 250 == 0) progress?.Report($"epoch {b.Epoch + 1}/{o.Epochs}, batch {b.Batch + 1}/{b.Batches}");
            },
            OnEpochEnd = (done, rec) =>
            {
                if (board is not null)
                {
                    progress?.Report($"epoch {done}: TensorBoard (test accuracy, histograms)");
                    board.Scalar("test/accuracy", 100.0 * Correct(Predict(net, test, device).Predicted, test) / test.Count, done);
                    board.Scalar("train/learning_rate", o.LearningRate, done);
                    board.Histograms(net, done);
                }
                o.OnEpochEnd?.Invoke(done);
            },
            Log = line => log?.Invoke(line),
        };
        if (o.Resume) progress?.Report($"resuming from {trainer.CheckpointPath}");
        return trainer.Run(o.Resume);
    }

    /// <summary>torchinfo's summary of the tutorial Net for one batch (the same for any weights: a fresh Net is summarised).</summary>
    public static ModelSummary Summary(int batchSize)
    {
        using var gen = new Generator(0);
        using var net = new CifarNet(gen);
        return ModelSummary.Of(net, [batchSize, 3, 32, 32]);
    }

    /// <summary>The tutorial's PyTorch state-dict file name.</summary>
    public const string PthName = "cifar_net.pth";

    /// <summary>The tutorial's <c>print('GroundTruth: ', ' '.join(f'{classes[labels[j]]:5s}' for j in range(4)))</c>.</summary>
    public static string GroundTruthLine(IEnumerable<int> labels) => "GroundTruth:  " + string.Join(" ", labels.Select(l =>
        Cifar10.ClassNames[l].PadRight(5)));

    /// <summary>The tutorial's <c>print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}' for j in range(4)))</c>.</summary>
    public static string PredictedLine(IEnumerable<int> predicted) => "Predicted:  " + string.Join(" ", predicted.Select(l =>
        Cifar10.ClassNames[l].PadRight(5)));

    /// <summary>How many of <paramref name="predicted"/> are the test images' labels.</summary>
    static int Correct(int[] predicted, Cifar10Set test) => predicted.Where((p, i) => p == test.Labels[i]).Count();

    /// <summary>Predicted class and softmax probabilities of every test image, in batches of 1000 (<see
    /// cref="Trainer.Probabilities"/>).</summary>
    public static (int[] Predicted, float[][] Probabilities) Predict(nn.Module<Tensor, Tensor> net, Cifar10Set set, Device device)
    {
        var probabilities = Trainer.Probabilities(net, (start, n) => set.ImagesTensor(start, n).to(device), set.Count, 1000);
        return (probabilities.Select(Metrics.ArgMax).ToArray(), probabilities);
    }

    /// <summary>The report section of a finished run.</summary>
    public static ReportSection Section(string id, string title, Cifar10Options o, Cifar10Result r)
    {
        var blocks = new List<Block>
        {
            new Paragraph($"The PyTorch tutorial \"Training a classifier\" in C#: the tutorial's Net ({CifarNet.ParameterCount:N0} " +
                $"parameters), " +
                          $"cross-entropy, SGD (lr {o.LearningRate}, momentum {o.Momentum}), batch {o.BatchSize}, {o.Epochs} epoch(s), " +
                              $"seed {o.Seed}, " +
                          $"{r.TrainImages} training and {r.Total} test images. The tutorial's published result is 54 % overall."),
            new Paragraph($"The Net, as torchinfo's summary(net, ({o.BatchSize}, 3, 32, 32)) shows it:"),
            new Preformatted(Summary(o.BatchSize).ToText()),
            new Preformatted(string.Join('\n', r.Log)),
            new Table(["class", "accuracy (%)", "precision (ML.NET)", "recall (ML.NET)"],
                Cifar10.ClassNames.Select((c, i) => (IReadOnlyList<string>)[c, r.PerClass[c].ToString("F1"),
                    r.Metrics.PerClassPrecision[i].ToString("F3"), r.Metrics.PerClassRecall[i].ToString("F3")]).ToList()),
            new Paragraph($"Microsoft.ML's multiclass evaluation: micro accuracy {r.Metrics.MicroAccuracy:F4}, macro accuracy " +
                $"{r.Metrics.MacroAccuracy:F4}, " +
                          $"log-loss {r.Metrics.LogLoss:F4}. Time per epoch: " +
                              $"{string.Join(", ", r.EpochSeconds.Select(s => s.ToString("F1") + " s"))}."),
        };
        blocks.AddRange(r.Figures);
        return new ReportSection(id, title, SectionStatus.Ran, blocks, TimeSpan.Zero)   // ReportRunner times the lab
        { KeyNumber = $"test accuracy {100L * r.Correct / r.Total} % on {r.Total} images (the tutorial: 54 %)" };
    }
}

/// <summary>The CIFAR-10 section of the report; skipped with the download command when the data are not here.</summary>
public sealed class Cifar10ReportLab : IReportLab
{
    public string Id => "cifar10";
    public string Title => "CIFAR-10: the PyTorch tutorial in C#";
    public string Summary => "PyTorch's CIFAR-10 tutorial reproduced in C#: the same Net, hyper-parameters and log lines";

    public Availability Check(LabContext context) =>
        Cifar10.Locate(context.DataDir) is not null
            ? Availability.Yes
            : Availability.No($"no CIFAR-10 in {context.DataDir}", $"torchlabs cifar10 --download --data {context.DataDir}");

    /// <summary>The tutorial's batch of 4: one thread (<see cref="TorchRuntime.ThreadsForBatch"/>).</summary>
    public int DefaultThreads(LabContext context) => TorchRuntime.ThreadsForBatch(new Cifar10Options
    {
        DataDir = "",
        OutDir = ""
    }.BatchSize);

    public ReportSection Run(LabContext context)
    {
        var o = new Cifar10Options { DataDir = context.DataDir, OutDir = context.OutDir, Seed = context.Seed, Device = context.Device };
        var r = Cifar10Lab.Run(o, null, context.Progress);
        return Cifar10Lab.Section(Id, Title, o, r);
    }
}
