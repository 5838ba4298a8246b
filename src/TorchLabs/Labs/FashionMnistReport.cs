using System.Globalization;
using TorchLabs.Data;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>How the report shows the lab: its blocks.</summary>
public static partial class FashionMnistLab
{
    public static IEnumerable<Block> Blocks(FashionMnistResult r, FashionMnistOptions o) =>
        [.. Overview(r, o), PerEpoch(r, "loss"), PerEpoch(r, "accuracy"), .. BestRun(r)];

    /// <summary>What was trained, and each optimizer's metrics.</summary>
    static IEnumerable<Block> Overview(FashionMnistResult r, FashionMnistOptions o)
    {
        yield return new Paragraph(
            $"Notes 002's exercise on {(o.Dataset == "mnist" ? "MNIST" : "Fashion-MNIST")} ({r.Location.Source}: "
                + $"`{r.Location.Folder}`"
                + (r.Location.Verified ? ", content MD5s checked" : "")
                + $"): an MLP [784, {o.Hidden}, 10] with {o.Activation} hidden units and softmax cross-entropy, the first {r.Train} training and {r.Test} test images, trained by the hand optimizers of Optimizers/: GD on the full batch, SGD on mini-batches of {o.BatchSize}, Adam on the same mini-batches. Metrics from Microsoft.ML's multiclass evaluation on the test images."
        );
        yield return Table.Of(
            r.Runs,
            ("optimizer", run => run.Optimizer.ToUpperInvariant()),
            ("epochs", run => run.Epochs.ToString()),
            ("lr", run => run.Lr.ToString(CultureInfo.InvariantCulture)),
            ("test accuracy", run => F(run.Metrics.MicroAccuracy)),
            ("macro precision", run => F(run.Metrics.MacroPrecision)),
            ("macro recall", run => F(run.Metrics.MacroRecall)),
            ("log-loss", run => F(run.Metrics.LogLoss)),
            ("the document's reported precision", run =>
                FashionMnistLab.NotesReported.TryGetValue(run.Optimizer, out double s) ? s.ToString("F2") : "–"
            ),
            ("seconds", run => run.Seconds.ToString("F1"))
        );
    }

    /// <summary>The training loss (log scale) or the test accuracy of every optimizer after each epoch.</summary>
    static Block PerEpoch(FashionMnistResult r, string what)
    {
        bool loss = what == "loss";
        var curves = r.Runs.Select(run =>
            (
                run.Optimizer.ToUpperInvariant(),
                Enumerable.Range(1, run.Epochs).Select(i => (double)i).ToArray(),
                loss ? run.TrainLoss : run.TestAccuracy
            )
        );
        return Figures.Of(
            loss
                ? Plots.Curves("Training loss per epoch", "epoch", "cross-entropy (log scale)", curves, logY: true)
                : Plots.Curves("Test accuracy per epoch", "epoch", "test accuracy", curves),
            $"fashion-mnist-{what}",
            loss ? "Training loss of GD, SGD and Adam" : "Test accuracy of GD, SGD and Adam after each epoch"
        );
    }

    /// <summary>The best run's confusion matrix and per-class precision and recall, and how the document's
    /// "precision" compares.</summary>
    static IEnumerable<Block> BestRun(FashionMnistResult r)
    {
        var best = r.Runs.OrderByDescending(run => run.Metrics.MicroAccuracy).First();
        yield return Figures.Of(
            Plots.ConfusionMatrix(
                best.Metrics.Confusion,
                r.ClassNames,
                $"Confusion matrix ({best.Optimizer.ToUpperInvariant()})"
            ),
            "fashion-mnist-confusion",
            $"Test confusion matrix of the best run ({best.Optimizer.ToUpperInvariant()})",
            820,
            720
        );
        yield return new Table(
            ["class", "precision", "recall"],
            r.ClassNames.Select(
                    (c, i) =>
                        (IReadOnlyList<string>)
                            [c, F(best.Metrics.PerClassPrecision[i]), F(best.Metrics.PerClassRecall[i])]
                )
                .ToList(),
            $"Per class, {best.Optimizer.ToUpperInvariant()}"
        );
        yield return new Paragraph(
            "The document reports \"precision\" as correct predictions over all test images (its log prints predict_true / total), so it compares with our test accuracy; its run used its own training length and initialisation, so the numbers differ in detail."
        );
    }
}

/// <summary>The Fashion-MNIST section of the report; skipped with the install command when the files are not
/// here.</summary>
public sealed class FashionMnistReportLab()
    : ReportLab(
        "fashion-mnist",
        "Fashion-MNIST: GD, SGD and Adam (notes 002's exercise)",
        "MLP [784, 28, 10] on Fashion-MNIST trained by hand GD, SGD and Adam, with Microsoft.ML metrics"
    )
{
    public override Availability Check(LabContext context) =>
        WhenFound(
            FashionMnist.Locate(context.DataDir),
            $"no Fashion-MNIST in {context.DataDir} or {FashionMnist.DebianFolder}",
            "apt-get install dataset-fashion-mnist"
        );

    public override ReportSection Run(LabContext context)
    {
        var o = new FashionMnistOptions { DataDir = context.DataDir, Seed = context.Seed };
        if (context.Quick)
            o = o with { Train = 300, Test = 100, Epochs = 2 };
        var r = FashionMnistLab.Run(o, context.Progress);
        List<Block> blocks =
        [
            .. FashionMnistLab.Blocks(r, o),
            new Paragraph($"The MLP as torchinfo's summary shows it, for one mini-batch of {o.BatchSize}:"),
            new Preformatted(FashionMnistLab.Summary(o).ToText()),
        ];
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber =
                (context.Quick ? "quick run (300 images, 2 epochs): " : "")
                + "test accuracy "
                + string.Join(
                    ", ",
                    r.Runs.Select(run => $"{run.Optimizer.ToUpperInvariant()} {run.Metrics.MicroAccuracy:F3}")
                ),
        };
    }
}
