using TorchLabs.Data;
using TorchLabs.Models;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>How a CIFAR-10 run is shown: its JSON (`--format json`) and its section of the report.</summary>
public static partial class Cifar10Lab
{
    /// <summary>The run as `--format json` prints it: one object made from the settings and the result
    /// record.</summary>
    public static object ToJson(Cifar10Options o, Cifar10Result r) =>
        new
        {
            summary = Summary(o.BatchSize).ToJson(),
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
            threads = get_num_threads(),
            impl = o.Load is null ? o.Impl : null,
            microAccuracy = r.Metrics.MicroAccuracy,
            macroAccuracy = r.Metrics.MacroAccuracy,
            logLoss = r.Metrics.LogLoss,
            confusion = r.Metrics.Confusion,
            tensorboard = o.TensorBoardDir is null ? null : Path.GetFullPath(o.TensorBoardDir),
        };

    /// <summary>The report section of a finished run.</summary>
    public static ReportSection Section(string id, string title, Cifar10Options o, Cifar10Result r)
    {
        var blocks = new List<Block>
        {
            new Paragraph(
                $"The PyTorch tutorial \"Training a classifier\" in C#: the tutorial's Net ({CifarNet.ParameterCount:N0} parameters), cross-entropy, SGD (lr {o.LearningRate}, momentum {o.Momentum}), batch {o.BatchSize}, {o.Epochs} epoch(s), seed {o.Seed}, {r.TrainImages} training and {r.Total} test images. The tutorial's published result is 54 % overall."
            ),
            new Paragraph($"The Net, as torchinfo's summary(net, ({o.BatchSize}, 3, 32, 32)) shows it:"),
            new Preformatted(Summary(o.BatchSize).ToText()),
            new Preformatted(string.Join('\n', r.Log)),
            new Table(
                ["class", "accuracy (%)", "precision (ML.NET)", "recall (ML.NET)"],
                Cifar10
                    .ClassNames.Select(
                        (c, i) =>
                            (IReadOnlyList<string>)
                                [
                                    c,
                                    r.PerClass[c].ToString("F1"),
                                    r.Metrics.PerClassPrecision[i].ToString("F3"),
                                    r.Metrics.PerClassRecall[i].ToString("F3"),
                                ]
                    )
                    .ToList()
            ),
            new Paragraph(
                $"Microsoft.ML's multiclass evaluation: micro accuracy {r.Metrics.MicroAccuracy:F4}, macro accuracy {r.Metrics.MacroAccuracy:F4}, log-loss {r.Metrics.LogLoss:F4}. Time per epoch: {string.Join(", ", r.EpochSeconds.Select(s => s.ToString("F1") + " s"))}."
            ),
        };
        blocks.AddRange(r.Figures);
        return new ReportSection(id, title, SectionStatus.Ran, blocks, TimeSpan.Zero) // ReportRunner times the lab
        {
            KeyNumber = $"test accuracy {100L * r.Correct / r.Total} % on {r.Total} images (the tutorial: 54 %)",
        };
    }
}

/// <summary>The CIFAR-10 section of the report; skipped with the download command when the data are not here.</summary>
public sealed class Cifar10ReportLab()
    : ReportLab(
        "cifar10",
        "CIFAR-10: the PyTorch tutorial in C#",
        "PyTorch's CIFAR-10 tutorial reproduced in C#: the same Net, hyper-parameters and log lines"
    )
{
    /// <summary>The tutorial's batch of 4: one thread (<see cref="TorchRuntime.ThreadsForBatch"/>).</summary>
    public override int DefaultThreads(LabContext context) =>
        TorchRuntime.ThreadsForBatch(new Cifar10Options { DataDir = "", OutDir = "" }.BatchSize);

    public override ReportSection Run(LabContext context)
    {
        var o = new Cifar10Options
        {
            DataDir = context.DataDir,
            OutDir = context.OutDir,
            Seed = context.Seed,
            Device = context.Device,
        };
        var r = Cifar10Lab.Run(o, null, context.Progress);
        return Cifar10Lab.Section(Id, Title, o, r);
    }

    public override Availability Check(LabContext context) =>
        WhenFound(
            Cifar10.Locate(context.DataDir),
            $"no CIFAR-10 in {context.DataDir}",
            $"torchlabs cifar10 {Setting.Of("download")} {Setting.Of("data")} {context.DataDir}"
        );
}
