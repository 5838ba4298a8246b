using System.Diagnostics;
using System.Globalization;
using TorchLabs.Checkpoints;
using TorchLabs.Data;
using TorchLabs.Models;
using TorchLabs.Reporting;

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

    /// <summary>What <c>torch.manual_seed(Seed)</c> at the top of the tutorial's script means: the same initial
    /// weights, batches and numbers as that Python run (docs/cifar10.md). Default 1.</summary>
    public long Seed { get; init; } = Seeds.Default;
    public int LogEvery { get; init; } = 2000;
    public int? LimitTrain { get; init; }
    public int? LimitTest { get; init; }
    public Device? Device { get; init; }

    /// <summary>
    /// The training step: torch (the default: the tutorial's forward through TorchSharp's modules, loss.backward(),
    /// optim.SGD) or fast (the fused SGD and hand-written float32 step of Fast/, equal to it to float32 rounding).
    /// Stored in the checkpoint.
    /// </summary>
    public string Impl { get; init; } = Runtime.Impl.Torch;

    /// <summary>Continue from OUT/checkpoint.dat (written at the end of every epoch); <see cref="Epochs"/> is the
    /// total.</summary>
    public bool Resume { get; init; }

    /// <summary>A model to evaluate instead of training (.pth, .safetensors or TorchSharp's format, told apart by
    /// content).</summary>
    public string? Load { get; init; }

    /// <summary>Called once, after the first training step (the data read, a checkpoint accepted), with the Net's
    /// summary for one batch.</summary>
    public Action<ModelSummary>? OnTrainingStart { get; init; }

    /// <summary>TensorBoard event files (<c>--tensorboard DIR</c>): the loss at every log line, the learning rate and
    /// the test accuracy after every epoch, histograms of every parameter and gradient, the first test images with
    /// their predictions, the summary.</summary>
    public string? TensorBoardDir { get; init; }

    /// <summary>The largest batch: CIFAR-10's 50,000 training images (a larger one would only allocate more).</summary>
    public const int MaxBatchSize = 50_000;

    /// <summary>Throws <see cref="UsageException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Require.WholeNumber(Epochs, "epochs");
        Require.WholeNumber(BatchSize, "batch-size", max: MaxBatchSize);
        Require.LearningRate(LearningRate);
        if (!double.IsFinite(Momentum) || Momentum < 0 || Momentum >= 1)
            throw new UsageException($"‹momentum› {Momentum}: expected a number in [0, 1)");
        Require.WholeNumber(LogEvery, "log-every");
        Require.WholeNumber(LimitTrain, "limit-train");
        Runtime.Impl.Require(Impl, Runtime.Impl.Torch, Runtime.Impl.Fast);
        Require.WholeNumber(LimitTest, "limit-test");
        if (Load is not null && Resume)
            throw new UsageException(
                "‹load› and ‹resume›: give one (‹load› evaluates a saved model; ‹resume› continues training)"
            );
    }
}

/// <summary>What the CIFAR-10 run measured.</summary>
/// <param name="Accuracy">Test accuracy in percent (correct / total * 100).</param>
/// <param name="PerClass">Per-class test accuracy in percent (NaN for a class with no test image).</param>
public sealed record Cifar10Result(
    double Accuracy,
    int Correct,
    int Total,
    IReadOnlyDictionary<string, double> PerClass,
    IReadOnlyList<LossPoint> LossCurve,
    string ModelPath,
    double Seconds,
    IReadOnlyList<double> EpochSeconds,
    ClassificationMetrics Metrics,
    IReadOnlyList<string> Log,
    IReadOnlyList<Figure> Figures
)
{
    /// <summary>How many training images the run used (all five batches, or --limit-train).</summary>
    public int TrainImages { get; init; }

    /// <summary>The folder the batches were read from.</summary>
    public string Folder { get; init; } = "";

    /// <summary>OUT/cifar_net.pth, the model in PyTorch's format (null when the run loaded a model instead of
    /// training).</summary>
    public string? PthPath { get; init; }

    /// <summary>The first four test images: ground truth and predicted class.</summary>
    public IReadOnlyList<(string GroundTruth, string Predicted)> FirstFour { get; init; } = [];
}

/// <summary>
/// PyTorch's CIFAR-10 tutorial ("Training a classifier"), in C#: the tutorial's Net, CrossEntropyLoss, SGD with
/// lr 0.001 and momentum 0.9, batch 4, 2 epochs, every random draw the script makes after torch.manual_seed(Seed), and
/// the tutorial's printed lines in its format.
/// </summary>
public static partial class Cifar10Lab
{
    /// <summary>The checkpoint's file name in the output folder.</summary>
    public const string CheckpointName = "checkpoint.dat";

    /// <summary>The tutorial's loss line: <c>[1,  2000] loss: 2.144</c>.</summary>
    public static string LossLine(int epoch, int batch, double loss) => $"[{epoch}, {batch, 5}] loss: {loss:F3}";

    /// <summary>The tutorial's overall line: integer percent (100 * correct // total) and the count of test
    /// images.</summary>
    public static string AccuracyLine(int correct, int total) =>
        $"Accuracy of the network on the {total} test images: {100L * correct / total} %";

    /// <summary>The tutorial's per-class line: class name padded to 5, one decimal.</summary>
    public static string ClassLine(string name, double percent) =>
        $"Accuracy for class: {name, -5} is {(double.IsNaN(percent) ? "n/a" : percent.ToString("F1"))} %";

    /// <summary>The settings that shape a run, stored in its checkpoint (the learning rate may change on resume; the
    /// log says so).</summary>
    static KeyValuePair<string, string>[] Settings(Cifar10Options o, int trainCount) =>
        [
            new(Setting.Of("batch-size"), o.BatchSize.ToString(CultureInfo.InvariantCulture)),
            new("training images", trainCount.ToString(CultureInfo.InvariantCulture)),
            new(Setting.Of("seed"), o.Seed.ToString(CultureInfo.InvariantCulture)),
            new(Setting.Of("momentum"), o.Momentum.ToString("R", CultureInfo.InvariantCulture)),
            new(Setting.Of("impl"), o.Impl),
            new("random draws", "as torch.manual_seed"),
            new("optimizer", o.Impl == Runtime.Impl.Fast ? FusedSgd : "torch.optim.SGD"),
        ];

    /// <summary>The optimizer of ‹impl› fast, and of every run before TorchSharp's own SGD was the default.</summary>
    const string FusedSgd = "fused SGD (Fast/FlatSgd.cs)";

    /// <summary>The tutorial's run: the data read, the Net trained (or ‹load›ed) and saved, then tested, in the
    /// tutorial's lines.
    /// </summary>
    public static Cifar10Result Run(Cifar10Options o, Action<string>? log = null, IProgress<string>? progress = null)
    {
        o.Validate();
        string folder = Cifar10.Locate(o.DataDir)
            ?? throw new UsageException(
                $"{Printable.Path(Path.GetFullPath(o.DataDir))}: no CIFAR-10 here (expected {Cifar10.FolderName}/ with {Cifar10.TrainFiles[0]} and {Cifar10.TestFile}); fetch it with `torchlabs cifar10 ‹download› ‹data› {Printable.Path(o.DataDir)}`"
            );
        var total = Stopwatch.StartNew();
        progress?.Report("reading CIFAR-10");
        var test = Cifar10.Load(folder, train: false, o.LimitTest);
        Directory.CreateDirectory(o.OutDir);
        // one run per output folder; stale temporaries of dead runs removed
        using var folderLock = OutputFolder.Lock(o.OutDir);
        var board = o.TensorBoardDir is null ? null : new TensorBoardLog(o.TensorBoardDir);
        board?.Text("model/summary", TensorBoardLog.Code(Summary(o.BatchSize).ToText()), 0);
        var output = new RunOutput(log);
        // torch.manual_seed(S): one generator for every draw the tutorial's script makes, in its order
        // (docs/cifar10.md).
        using var torchGenerator = new Generator((ulong)o.Seed);
        var c = new Cifar10Context(o, torchGenerator, test, board, output, progress);
        var model = o.Load is string load ? Loaded(o, load, torchGenerator, progress) : TrainedAndSaved(folder, c);
        using var _ = model.Net;
        var tested = Tested(model, c);
        return new Cifar10Result(
            100.0 * tested.Correct / test.Count,
            tested.Correct,
            test.Count,
            tested.PerClass,
            model.Curve,
            model.Path,
            total.Elapsed.TotalSeconds,
            model.EpochSeconds,
            tested.Metrics,
            output.Lines,
            output.Figures
        )
        {
            TrainImages = model.TrainImages,
            Folder = folder,
            PthPath = o.Load is null ? Path.Combine(o.OutDir, PthName) : null,
            FirstFour = tested.FirstFour,
        };
    }

    /// <summary>What a run shares: its options, the seeded generator of every draw, the test set, and where its output
    /// goes (lines and figures, TensorBoard, progress).</summary>
    internal sealed record Cifar10Context(
        Cifar10Options Options,
        Generator TorchGenerator,
        Cifar10Set Test,
        TensorBoardLog? Board,
        RunOutput Output,
        IProgress<string>? Progress
    );

    /// <summary>The run's printed lines (also passed to the caller's log as they come) and its figures.</summary>
    internal sealed class RunOutput(Action<string>? log)
    {
        public List<string> Lines { get; } = [];
        public List<Figure> Figures { get; } = [];

        public void Log(string line)
        {
            Lines.Add(line);
            Echo(line);
        }

        /// <summary>To the caller's log only: training's lines join <see cref="Lines"/> from its record, resumed
        /// epochs' included.</summary>
        public void Echo(string line) => log?.Invoke(line);
    }

    /// <summary>The Net to test, where it was saved or loaded from, and what training recorded (nothing for a loaded
    /// one).</summary>
    sealed record Model(
        CifarNet Net,
        string Path,
        IReadOnlyList<LossPoint> Curve,
        IReadOnlyList<double> EpochSeconds,
        int TrainImages
    );

    /// <summary>The tutorial's "load": net = Net(); net.load_state_dict(torch.load(PATH)); .pth, safetensors or
    /// TorchSharp's format, told apart by content.</summary>
    static Model Loaded(Cifar10Options o, string load, Generator torchGenerator, IProgress<string>? progress)
    {
        var net = new CifarNet(torchGenerator);
        var format = ModelFiles.Load(net, load, "the tutorial's Net");
        progress?.Report($"loaded {Printable.Path(load)} ({ModelFiles.Name(format)})");
        net.to(o.Device ?? CPU);
        return new Model(net, Path.GetFullPath(load), [], [], 0);
    }

    /// <summary>The tutorial's training, then its "save": torch.save(net.state_dict(), './cifar_net.pth'), and also
    /// safetensors and TorchSharp's format.</summary>
    static Model TrainedAndSaved(string folder, Cifar10Context c)
    {
        var (o, output) = (c.Options, c.Output);
        var (trainPixels, trainLabels) = Cifar10.LoadTensor(folder, train: true, o.LimitTrain);
        Training run;
        using (trainPixels)
            run = Train(c, trainPixels, trainLabels);
        output.Lines.AddRange(run.Record.Log);
        output.Log("Finished Training");
        string modelPath = Path.Combine(o.OutDir, "cifar_net.dat");
        AtomicFile.Write(modelPath, tmp => run.Net.save(tmp));
        ModelFiles.SavePth(run.Net, Path.Combine(o.OutDir, PthName));
        ModelFiles.SaveSafetensors(run.Net, Path.Combine(o.OutDir, "cifar_net.safetensors"));
        return new Model(run.Net, modelPath, run.Record.Curve, run.Record.EpochSeconds, trainLabels.Length);
    }

    /// <summary>What testing found: the correct count, per-class accuracy, ML.NET's metrics, the first four
    /// images.</summary>
    sealed record TestResult(
        int Correct,
        IReadOnlyDictionary<string, double> PerClass,
        ClassificationMetrics Metrics,
        IReadOnlyList<(string GroundTruth, string Predicted)> FirstFour
    );

    /// <summary>The tutorial's "test the network on the test data": the first four test images, their labels and the
    /// predictions; the whole set's accuracy; the accuracy of each class. Then the loss and confusion
    /// figures.</summary>
    static TestResult Tested(Model model, Cifar10Context c)
    {
        var (o, test, board, output, progress) = (c.Options, c.Test, c.Board, c.Output, c.Progress);
        progress?.Report("testing");
        var (predicted, probabilities) = Predict(model.Net, test, o.Device ?? CPU);
        int few = Math.Min(4, test.Count);
        output.Log(GroundTruthLine(test.Labels.Take(few).Select(l => (int)l)));
        output.Log(PredictedLine(predicted.Take(few)));
        output.Figures.Add(
            Plots.ImageGrid(
                Enumerable
                    .Range(0, few)
                    .Select(i =>
                        (
                            test.Pixels.AsSpan(i * Cifar10.RecordPixels, Cifar10.RecordPixels).ToArray(),
                            $"{Cifar10.ClassNames[test.Labels[i]]} / {Cifar10.ClassNames[predicted[i]]}"
                        )
                    )
                    .ToList(),
                32,
                32,
                "cifar10-test-images",
                "The first four test images: ground truth / predicted (the tutorial's \"test the network on the test data\")",
                columns: 4
            )
        );
        int correct = Correct(predicted, test);
        output.Log(AccuracyLine(correct, test.Count));
        if (board is not null)
        {
            int step = o.Load is null ? o.Epochs : 0;
            board.Image("test/predictions", output.Figures[^1].Render!(), step);
            if (o.Load is not null)
                board.Scalar("test/accuracy", 100.0 * correct / test.Count, step);
        }
        var perClass = PerClass(predicted, test, output);
        var metrics = Metrics.Evaluate(
            test.Labels.Select(l => (int)l).ToArray(),
            probabilities,
            Cifar10.ClassNames.Length
        );
        AddFigures(o, model, metrics, output);
        return new TestResult(
            correct,
            perClass,
            metrics,
            [
                .. Enumerable
                    .Range(0, few)
                    .Select(i => (Cifar10.ClassNames[test.Labels[i]], Cifar10.ClassNames[predicted[i]])),
            ]
        );
    }

    /// <summary>The tutorial's per-class lines: each class's accuracy in percent (NaN for a class with no test
    /// image).</summary>
    static Dictionary<string, double> PerClass(int[] predicted, Cifar10Set test, RunOutput output)
    {
        var perClass = new Dictionary<string, double>();
        for (int c = 0; c < Cifar10.ClassNames.Length; c++)
        {
            int n = test.Labels.Count(l => l == c);
            int hit = predicted.Where((p, i) => p == c && test.Labels[i] == c).Count();
            double percent = n == 0 ? double.NaN : 100.0 * hit / n;
            perClass[Cifar10.ClassNames[c]] = percent;
            output.Log(ClassLine(Cifar10.ClassNames[c], percent));
        }
        return perClass;
    }

    /// <summary>The training loss curve (when the run trained) and the test confusion matrix.</summary>
    static void AddFigures(Cifar10Options o, Model model, ClassificationMetrics metrics, RunOutput output)
    {
        var curve = model.Curve;
        int batches = (model.TrainImages + o.BatchSize - 1) / o.BatchSize;
        if (curve.Count > 0)
            output.Figures.Add(
                Figures.Of(
                    Plots.Curves(
                        "CIFAR-10 training loss",
                        "mini-batches seen",
                        "running cross-entropy loss",
                        [
                            (
                                "train loss (mean over the last " + o.LogEvery + " mini-batches)",
                                curve.Select(p => (double)((p.Epoch - 1) * batches + p.Batch)).ToArray(),
                                curve.Select(p => p.Loss).ToArray()
                            ),
                        ]
                    ),
                    "cifar10-loss",
                    "Training loss, averaged over each logging interval"
                )
            );
        output.Figures.Add(
            Figures.Of(
                Plots.ConfusionMatrix(metrics.Confusion, Cifar10.ClassNames, "CIFAR-10 test confusion matrix"),
                "cifar10-confusion",
                "Confusion matrix on the test images (rows: true class, columns: predicted)",
                760,
                680
            )
        );
    }

    /// <summary>The trained Net and the run's record.</summary>
    sealed record Training(CifarNet Net, TrainingRecord Record);

    /// <summary>
    /// The tutorial's training, statement by statement from its peek at the data to "Finished Training"
    /// (docs/cifar10.md sets the two side by side). Every random draw comes from the run's <see
    /// cref="Cifar10Context.TorchGenerator"/> in the script's order, so that <c>‹seed› S</c> gives the weights and
    /// batches of the Python tutorial run after <c>torch.manual_seed(S)</c>. What the tutorial does not have is two
    /// calls on the run's record, one per step and one per epoch (<see cref="Cifar10Record"/>).
    /// </summary>
    static Training Train(Cifar10Context c, Tensor trainPixels, byte[] trainLabels)
    {
        var (o, torchGenerator, device) = (c.Options, c.TorchGenerator, c.Options.Device ?? CPU);
        // transform = Compose([ToTensor(), Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]); trainset; trainloader
        // (shuffle=True)
        using var trainset = new Cifar10Batcher(trainPixels, trainLabels);
        var trainloader = new Cifar10Loader(trainset, o.BatchSize, shuffle: true, torchGenerator, device);
        // dataiter = iter(trainloader); images, labels = next(dataiter); imshow(torchvision.utils.make_grid(images))
        var (_, (images, _)) = trainloader.First();
        c.Output.Figures.Add(Peek(trainPixels, trainloader.Order[..(int)images.shape[0]], trainLabels));
        var net = new CifarNet(torchGenerator); // net = Net()
        net.to(device);
        var criterion = nn.CrossEntropyLoss(); // criterion = nn.CrossEntropyLoss()
        // optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9); ‹impl› fast: Fast/'s fused SGD and
        // hand-written step
        using var fast =
            o.Impl == Runtime.Impl.Fast ? new Fast.CifarNetFastTraining(net, o.LearningRate, o.Momentum) : null;
        using var sgd = fast is null ? optim.SGD(net.parameters(), o.LearningRate, o.Momentum) : null;
        var optimizer = fast is null ? OptimizerHooks.For(sgd!) : fast.Sgd.Hooks();
        Tensor ForwardBackward(Tensor inputs, Tensor labels) // forward + backward
        {
            var outputs = net.call(inputs);
            var loss = criterion.call(outputs, labels);
            loss.backward();
            return loss;
        }
        Func<Tensor, Tensor, Tensor> forwardBackward = fast is null ? ForwardBackward : fast.LossBackward;
        var run = Cifar10Record.Start(c, net, optimizer, trainset.Count, trainloader.Batches);

        for (int epoch = run.EpochsDone; epoch < o.Epochs; epoch++) // loop over the dataset multiple times
        {
            double running_loss = 0.0;
            foreach (var (i, (inputs, labels)) in trainloader)
            {
                using var scope = NewDisposeScope(); // frees this step's tensors
                optimizer.zero_grad(); // zero the parameter gradients
                var loss = forwardBackward(inputs, labels); // forward + backward + optimize
                optimizer.step();
                running_loss += loss.item<float>(); // print statistics
                if (i % o.LogEvery == o.LogEvery - 1) // print every LogEvery mini-batches
                {
                    run.Print(epoch, i, running_loss / o.LogEvery);
                    running_loss = 0.0;
                }
                run.AfterStep(epoch, i, loss);
            }
            run.AfterEpoch(epoch);
        }
        return new Training(net, run.Record);
    }

    /// <summary>The run's checkpoint: OUT/checkpoint.dat, with the settings that shape the run and the state to
    /// resume.</summary>
    internal static TrainingCheckpoint Checkpoint(
        Cifar10Options o,
        CifarNet net,
        OptimizerHooks optimizer,
        Generator generator,
        int trainCount
    ) =>
        new()
        {
            Kind = "cifar10",
            Path = Path.Combine(o.OutDir, CheckpointName),
            Settings = Settings(o, trainCount),
            KeepsTimes = true,
            SettingsBefore = SettingsBefore,
            RetiredSettings = RetiredSettings,
            LearningRate = o.LearningRate,
            Model = net,
            Optimizer = optimizer,
            Generator = generator,
        };

    /// <summary>The checkpoint's settings before TorchLabs drew as <c>torch.manual_seed</c>: such a checkpoint is
    /// refused.</summary>
    static readonly Dictionary<string, string> SettingsBefore = new()
    {
        // Made before ‹impl›: either step resumes it (they agree to float32 rounding).
        [Setting.Of("impl")] = Runtime.Impl.Torch,
        ["random draws"] = $"two generators ({Setting.Of("seed")}, {Setting.Of("seed")} + 1)",
        // Made before TorchSharp's optim.SGD was the default: their optimizer state is the fused SGD's, which only
        // ‹impl› fast resumes.
        ["optimizer"] = FusedSgd,
    };

    /// <summary>‹lanes› is gone: one lane is this step; two lanes are refused.</summary>
    static readonly Dictionary<string, string> RetiredSettings = new() { [Setting.Of("lanes")] = "1" };

    /// <summary>The tutorial's imshow of the peeked batch: its images with their labels.</summary>
    static Figure Peek(Tensor trainPixels, long[] indices, byte[] labels)
    {
        var images = new List<(byte[], string)>();
        foreach (long k in indices)
        {
            byte[] image = trainPixels.bytes.Slice((int)k * Cifar10.RecordPixels, Cifar10.RecordPixels).ToArray();
            images.Add((image, Cifar10.ClassNames[labels[k]]));
        }
        return Plots.ImageGrid(
            images,
            32,
            32,
            "cifar10-images",
            "The first mini-batch of the shuffled training set, with its labels (the tutorial's imshow)"
        );
    }

    /// <summary>After an epoch: the test accuracy, the learning rate and histograms of every parameter and
    /// gradient.</summary>
    internal static void EpochToTensorBoard(
        TensorBoardLog board,
        CifarNet net,
        Cifar10Set test,
        Device device,
        double lr,
        int done,
        IProgress<string>? progress
    )
    {
        progress?.Report($"epoch {done}: TensorBoard (test accuracy, histograms)");
        board.Scalar("test/accuracy", 100.0 * Correct(Predict(net, test, device).Predicted, test) / test.Count, done);
        board.Scalar("train/learning_rate", lr, done);
        board.Histograms(net, done);
    }

    /// <summary>torchinfo's summary of the tutorial Net for one batch (the same for any weights: a fresh Net is
    /// summarised).</summary>
    public static ModelSummary Summary(int batchSize)
    {
        using var gen = new Generator(0);
        using var net = new CifarNet(gen);
        return ModelSummary.Of(net, [batchSize, 3, 32, 32]);
    }

    /// <summary>The tutorial's PyTorch state-dict file name.</summary>
    public const string PthName = "cifar_net.pth";

    /// <summary>The tutorial's <c>print('GroundTruth: ', ' '.join(f'{classes[labels[j]]:5s}' for j in
    /// range(4)))</c>.</summary>
    public static string GroundTruthLine(IEnumerable<int> labels) =>
        "GroundTruth:  " + string.Join(" ", labels.Select(l => Cifar10.ClassNames[l].PadRight(5)));

    /// <summary>The tutorial's <c>print('Predicted: ', ' '.join(f'{classes[predicted[j]]:5s}' for j in
    /// range(4)))</c>.</summary>
    public static string PredictedLine(IEnumerable<int> predicted) =>
        "Predicted:  " + string.Join(" ", predicted.Select(l => Cifar10.ClassNames[l].PadRight(5)));

    /// <summary>How many of <paramref name="predicted"/> are the test images' labels.</summary>
    static int Correct(int[] predicted, Cifar10Set test) => predicted.Where((p, i) => p == test.Labels[i]).Count();

    /// <summary>Predicted class and softmax probabilities of every test image, in batches of 1000 (<see
    /// cref="Inference.Probabilities"/>).</summary>
    public static (int[] Predicted, float[][] Probabilities) Predict(
        nn.Module<Tensor, Tensor> net,
        Cifar10Set set,
        Device device
    )
    {
        var probabilities = Inference.Probabilities(
            net,
            (start, n) => set.ImagesTensor(start, n).to(device),
            set.Count,
            1000
        );
        return (probabilities.Select(Metrics.ArgMax).ToArray(), probabilities);
    }
}
