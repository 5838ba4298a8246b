using System.CommandLine;
using Spectre.Console;
using TorchLabs.Data;
using TorchLabs.Labs;
using TorchLabs.Reporting;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs cifar10`: the PyTorch CIFAR-10 tutorial, its lines, model and figures.</summary>
public static class Cifar10Command
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var download = new Option<bool>("--download")
        {
            Description = $"Download CIFAR-10 ({Cifar10.Url}, MD5-checked) into --data " +
            $"first, if it is not there"
        };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set", DefaultValueFactory = _ => 2 };
        var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 4 };
        var lr = new Option<double>("--lr") { Description = "SGD learning rate", DefaultValueFactory = _ => 0.001 };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0.9 };
        var seed = CommonOptions.Seed(
            "As torch.manual_seed(S) in the tutorial's script: its initial weights and batches, bit for bit (docs/cifar10.md)");
        var logEvery = new Option<int>("--log-every")
        {
            Description = "Print the running loss every N mini-batches",
            DefaultValueFactory = _ => 2000
        };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var outDir = CommonOptions.Out("out/cifar10");
        var limitTrain = new Option<int?>("--limit-train") { Description = "Use only the first N training images (quick runs)" };
        var limitTest = new Option<int?>("--limit-test") { Description = "Use only the first N test images (quick runs)" };
        var format = CommonOptions.Format();
        var tensorboard = CommonOptions.TensorBoard();
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue from the checkpoint in --out (written after every epoch); " +
            "--epochs is the total. The other settings must match the checkpoint's, except --lr, which may change (the log says so)"
        };
        var impl = new Option<string>("--impl")
        {
            Description = "The training step: autograd (the tutorial's, TorchSharp's modules and autograd) or fast (the hand-written " +
                "float32 step of src/TorchLabs/Fast, equal to float32 rounding)",
            DefaultValueFactory = _ => "autograd",
        };
        impl.AcceptOnlyFromAmong("autograd", "fast");
        var load = new Option<string?>("--load")
        {
            Description = "Evaluate this model instead of training: a .pth from the Python " +
            "tutorial, a .safetensors, or TorchSharp's format (told apart by content)"
        };
        var cmd = new Command("cifar10",
            "PyTorch's CIFAR-10 tutorial in C#: train the tutorial's Net (or --load one), print its log and accuracy lines, save the " +
            "model (cifar_net.pth, .safetensors, .dat) and figures")
            { data, download, epochs, batchSize, lr, momentum, seed, logEvery, threads, device, outDir, limitTrain, limitTest, format,
                resume, load, impl, tensorboard };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            var dev = CommonOptions.Setup(p.GetValue(threads), p.GetValue(device)!, TorchRuntime.ThreadsForBatch(p.GetValue(batchSize)));
            bool json = p.GetValue(format) == "json";
            var o = new Cifar10Options
            {
                DataDir = p.GetValue(data)!, OutDir = p.GetValue(outDir)!, Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batchSize),
                LearningRate = p.GetValue(lr), Momentum = p.GetValue(momentum), Seed = p.GetValue(seed), LogEvery = p.GetValue(logEvery),
                LimitTrain = p.GetValue(limitTrain), LimitTest = p.GetValue(limitTest), Device = dev, Resume = p.GetValue(resume),
                Load = p.GetValue(load),
                Impl = p.GetValue(impl)!, TensorBoardDir = p.GetValue(tensorboard),
            };
            o.Validate();
            if (CommonOptions.ValidateOnly.Value) return Outcome.Ok;
            if (p.GetValue(download) && Cifar10.Locate(o.DataDir) is null) Download(o.DataDir);
            // torchinfo's summary of the Net for one batch, printed as training starts (stderr: stdout keeps the tutorial's lines).
            if (!json) o = o with { OnTrainingStart = s => Console.Error.WriteLine(s.ToText()) };
            var status = new StatusLine(json ? Console.Error : Console.Out);
            var r = Cifar10Lab.Run(o, status.Log, status);
            status.Clear();
            var figures = Figures.Write(r.Figures, o.OutDir);
            Console.Error.WriteLine($"data: {r.TrainImages} training and {r.Total} test images from {r.Folder}");
            if (json)
            {
                Json.Print(new
                {
                    summary = Cifar10Lab.Summary(o.BatchSize).ToJson(),
                    trainImages = r.TrainImages,
                    loaded = o.Load is null ? null : Path.GetFullPath(o.Load),
                    pthPath = r.PthPath is null ? null : Path.GetFullPath(r.PthPath),
                    firstFour = r.FirstFour.Select(f => new { groundTruth = f.GroundTruth, predicted = f.Predicted }),
                    testImages = r.Total,
                    accuracy = r.Accuracy,
                    perClass = r.PerClass,
                    lossCurve = r.LossCurve,
                    modelPath = Path.GetFullPath(r.ModelPath),
                    seconds = r.Seconds,
                    epochSeconds = r.EpochSeconds,
                    threads = TorchSharp.torch.get_num_threads(),
                    impl = o.Load is null ? o.Impl : null,
                    microAccuracy = r.Metrics.MicroAccuracy,
                    macroAccuracy = r.Metrics.MacroAccuracy,
                    logLoss = r.Metrics.LogLoss,
                    confusion = r.Metrics.Confusion,
                    tensorboard = o.TensorBoardDir is null ? null : Path.GetFullPath(o.TensorBoardDir),
                });
            }
            else
            {
                Console.Error.WriteLine($"threads: {TorchSharp.torch.get_num_threads()} " +
                    $"({(p.GetValue(threads) is null ? TorchRuntime.ThreadRule : "--threads")})" +
                    (o.Load is null ? $"; step: --impl {o.Impl}" : ""));
                Console.Error.WriteLine($"model: {Path.GetFullPath(r.ModelPath)}" + (r.PthPath is null
                    ? "" : $" and {Path.GetFullPath(r.PthPath)} (PyTorch)") + $"; figures: {string.Join(", ", figures)}");
                if (o.TensorBoardDir is not null)
                    Console.Error.WriteLine($"TensorBoard: tensorboard --logdir {Path.GetFullPath(o.TensorBoardDir)}");
            }
            return Outcome.Ok;
        }));
        return cmd;
    }

    static void Download(string dataDir)
    {
        if (Console.IsErrorRedirected)
        {
            var log = new PlainProgress(Console.Error);   // a log: a plain line every ten seconds, no redrawn bar
            log.Stage("CIFAR-10", "downloading");
            Downloader.FetchCifar10(dataDir, new SyncProgress<DownloadProgress>(d =>
                log.Report($"{d.Received / 1e6:F1} MB" + (d.Total is long t ? $" of {t / 1e6:F1} MB" : ""))));
            log.Stage("CIFAR-10", "downloaded");
            return;
        }
        Consoles.Err.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("CIFAR-10", maxValue: 170_498_071);
                Downloader.FetchCifar10(dataDir, new SyncProgress<DownloadProgress>(d =>
                {
                    if (d.Total is long t) task.MaxValue = t;
                    task.Value = d.Received;
                }));
            });
    }
}
