using TorchLabs.Models;
using System.CommandLine;
using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs fashion-mnist`: seed 002's exercise with GD, SGD and Adam.</summary>
public static class FashionMnistCommand
{
    public static Command Create()
    {
        var optimizer = new Option<string?>("--optimizer")
        {
            Description = "gd (full batch), sgd (mini-batches) or adam; default all " +
            "three"
        };
        optimizer.AcceptOnlyFromAmong("gd", "sgd", "adam");
        var activation = new Option<string>("--activation")
        {
            Description = "Hidden-unit activation: sigmoid, relu or tanh",
            DefaultValueFactory = _ => "sigmoid"
        };
        activation.AcceptOnlyFromAmong("sigmoid", "relu", "tanh");
        var train = new Option<int>("--train") { Description = "Training images (the first N)", DefaultValueFactory = _ => 5000 };
        var test = new Option<int>("--test") { Description = "Test images (the first N)", DefaultValueFactory = _ => 1000 };
        var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size of SGD and Adam", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (default: GD 300, SGD 20, Adam 20)" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: GD 1.0, SGD 0.1, Adam 0.001)" };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units", DefaultValueFactory = _ => 28 };
        var dataset = new Option<string>("--dataset")
        {
            Description = "fashion-mnist or mnist (MNIST's IDX files in --data)",
            DefaultValueFactory = _ => "fashion-mnist"
        };
        dataset.AcceptOnlyFromAmong("fashion-mnist", "mnist");
        var download = new Option<bool>("--download")
        {
            Description = "Download Fashion-MNIST from the publisher's mirror (MD5-checked) " +
            "when it is not found"
        };
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue each optimizer from its checkpoint in --out (written after " +
            "every epoch); --epochs is the total. The other settings must match the checkpoint's, except --lr, which may change (the log " +
            "says so)"
        };
        var backward = new Option<string>("--backward")
        {
            Description = "autograd (libtorch's) or hand (the delta recursion and softmax " +
            "cross-entropy as custom autograd Functions)", DefaultValueFactory = _ => "autograd"
        };
        backward.AcceptOnlyFromAmong("autograd", "hand");
        var data = CommonOptions.Data();
        var seed = CommonOptions.Seed();
        var format = CommonOptions.Format();
        var outDir = CommonOptions.Out("out/fashion-mnist");
        var threads = CommonOptions.Threads();
        var tensorboard = CommonOptions.TensorBoard();
        var cmd = new Command("fashion-mnist",
            "Seed 002's exercise: MLP [784, 28, 10] on Fashion-MNIST with GD, SGD and Adam, Microsoft.ML metrics and curves")
            { optimizer, activation, train, test, batchSize, epochs, lr, hidden, dataset, download, backward, data, seed, format, outDir,
                threads, resume, tensorboard };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            CommonOptions.Setup(p.GetValue(threads), "cpu");
            var o = new FashionMnistOptions
            {
                DataDir = p.GetValue(data)!, Dataset = p.GetValue(dataset)!, Optimizers = p.GetValue(optimizer) is string one
                    ? [one] : ["gd", "sgd", "adam"],
                Activation = p.GetValue(activation)!, Train = p.GetValue(train), Test = p.GetValue(test), BatchSize = p.GetValue(batchSize),
                Epochs = p.GetValue(epochs), LearningRate = p.GetValue(lr), Hidden = p.GetValue(hidden), Seed = p.GetValue(seed),
                Download = p.GetValue(download),
                OutDir = p.GetValue(outDir), Resume = p.GetValue(resume), Backward = p.GetValue(backward)!,
                TensorBoardDir = p.GetValue(tensorboard),
            };
            o.Validate();
            if (CommonOptions.ValidateOnly.Value) return Outcome.Ok;
            if (o.Download) FashionMnistLab.Find(o);
            // torchinfo's summary of the MLP for one batch, once the data is read (stderr in text mode: stdout keeps the lab's output).
            if (p.GetValue(format) != "json") o = o with { OnTrainingStart = s => Console.Error.WriteLine(s.ToText()) };
            var summary = FashionMnistLab.Summary(o);
            var r = StatusLine.Around(status => FashionMnistLab.Run(o, status));
            if (p.GetValue(format) == "json")
            {
                Json.Print(new
                {
                    summary = summary.ToJson(),
                    dataset = o.Dataset,
                    backward = o.Backward,
                    source = r.Location.Folder,
                    train = r.Train,
                    test = r.Test,
                    runs = r.Runs.Select(run => new
                    {
                        optimizer = run.Optimizer, epochs = run.Epochs, lr = run.Lr, testAccuracy = run.Metrics.MicroAccuracy,
                        macroPrecision = run.Metrics.MacroPrecision, macroRecall = run.Metrics.MacroRecall, logLoss = run.Metrics.LogLoss,
                        confusion = run.Metrics.Confusion, trainLoss = run.TrainLoss, testAccuracyCurve = run.TestAccuracy,
                        seconds = run.Seconds,
                    }),
                });
                return Outcome.Ok;
            }
            string dir = p.GetValue(outDir)!;
            SectionCommand.PrintBlocks("Fashion-MNIST", FashionMnistLab.Blocks(r, o).ToList(), dir);
            return Outcome.Ok;
        }));
        return cmd;
    }
}
