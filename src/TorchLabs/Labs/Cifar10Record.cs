using System.Diagnostics;
using TorchLabs.Checkpoints;
using TorchLabs.Models;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>
/// What the CIFAR-10 loop keeps beside the tutorial's statements, in two calls and the tutorial's print: after every
/// step (<see cref="AfterStep"/>: the divergence check, progress), after every epoch (<see cref="AfterEpoch"/>: the
/// epoch's time, the checkpoint, TensorBoard's epoch records), and the print of a running loss (<see cref="Print"/>:
/// the tutorial's line, a point of the loss curve, TensorBoard's scalar).
/// </summary>
sealed class Cifar10Record
{
    readonly Cifar10Lab.Cifar10Context c;
    readonly TrainingCheckpoint checkpoint;
    readonly int batches;
    readonly CifarNet net;
    Stopwatch clock = Stopwatch.StartNew();

    Cifar10Record(
        Cifar10Lab.Cifar10Context c,
        TrainingCheckpoint checkpoint,
        TrainingRecord record,
        CifarNet net,
        int batches
    )
    {
        (this.c, this.checkpoint, Record, this.net, this.batches) = (c, checkpoint, record, net, batches);
    }

    Cifar10Options o => c.Options;
    TensorBoardLog? board => c.Board;
    IProgress<string>? progress => c.Progress;

    /// <summary>The checkpoint's content: settings, epochs done, curve, log.</summary>
    public TrainingRecord Record { get; }

    public int EpochsDone => Record.EpochsDone;

    /// <summary>A fresh record, or with ‹resume› the checkpoint's (the Net, the optimizer and the generator restored);
    /// then the Net's summary goes to <see cref="Cifar10Options.OnTrainingStart"/>.</summary>
    public static Cifar10Record Start(
        Cifar10Lab.Cifar10Context c,
        CifarNet net,
        OptimizerHooks optimizer,
        int trainCount,
        int batches
    )
    {
        var o = c.Options;
        var checkpoint = Cifar10Lab.Checkpoint(o, net, optimizer, c.TorchGenerator, trainCount);
        if (o.Resume)
            c.Progress?.Report($"resuming from {checkpoint.Path}");
        var record = checkpoint.Start(o.Resume, o.Epochs, c.Output.Echo);
        o.OnTrainingStart?.Invoke(Cifar10Lab.Summary(o.BatchSize));
        net.train();
        return new Cifar10Record(c, checkpoint, record, net, batches);
    }

    /// <summary>The tutorial's <c>print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}')</c>: the line, a
    /// point of the loss curve, and TensorBoard's train/loss at the mini-batches seen.</summary>
    public void Print(int epoch, int i, double runningLoss)
    {
        Record.Curve.Add(new LossPoint(epoch + 1, i + 1, runningLoss));
        Record.Log.Add(Cifar10Lab.LossLine(epoch + 1, i + 1, runningLoss));
        c.Output.Echo(Record.Log[^1]);
        board?.Scalar("train/loss", runningLoss, epoch * batches + i + 1);
    }

    /// <summary>After step <paramref name="i"/>: a loss that is not finite ends the run (the last good checkpoint
    /// kept); progress every 250 steps.</summary>
    public void AfterStep(int epoch, int i, Tensor loss)
    {
        checkpoint.StopIfDiverged(loss.item<float>(), epoch, i);
        if (i % 250 == 0)
            progress?.Report($"epoch {epoch + 1}/{o.Epochs}, batch {i + 1}/{batches}");
    }

    /// <summary>After an epoch: its time, OUT/checkpoint.dat (‹resume› goes on from here), TensorBoard's epoch
    /// records.</summary>
    public void AfterEpoch(int epoch)
    {
        Record.EndEpoch(double.NaN, clock.Elapsed.TotalSeconds); // cifar10 reports running losses, not an epoch's mean
        checkpoint.Save(Record);
        if (board is not null)
            Cifar10Lab.EpochToTensorBoard(
                board,
                net,
                c.Test,
                o.Device ?? CPU,
                o.LearningRate,
                Record.EpochsDone,
                progress
            );
        net.train();
        clock = Stopwatch.StartNew();
    }
}
