using System.Diagnostics;
using System.Globalization;
using TorchLabs.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Labs;

/// <summary>How the driver calls an optimizer (the flat SGD or a hand one), with its state saved beside the model's.</summary>
public sealed record OptimizerHooks(Action ZeroGrad, Action Step, Action<BinaryWriter> Save, Action<BinaryReader> Load,
    Action<double> SetLearningRate)
{
    public static OptimizerHooks For(Optimizers.FlatSgd o) => new(o.zero_grad, o.step, o.SaveState, o.LoadState, o.SetLearningRate);

    public static OptimizerHooks For(Optimizers.HandOptimizer o) => new(o.zero_grad, o.step, o.SaveState, o.LoadState, lr =>
        o.LearningRate = lr);
}

/// <summary>
/// What a training checkpoint holds, written and read side by side: the settings that shaped the run, the epochs done, the
/// curves so far, the log, the shuffling generator, the model and the optimizer's state.
/// </summary>
public sealed class TrainingRecord
{
    /// <summary>Every setting that shapes the run (option → value as given); a resume with other values is refused.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];
    /// <summary>The learning rate of the run that wrote the checkpoint (a resume may change it; the log says so).</summary>
    public double LearningRate { get; set; }
    public int EpochsDone { get; set; }
    /// <summary>Mean training loss of each epoch (weighted by batch size).</summary>
    public List<double> EpochLoss { get; } = [];
    /// <summary>The lab's evaluation after each epoch (test accuracy), if it evaluates.</summary>
    public List<double> EpochMetric { get; } = [];
    public List<double> EpochSeconds { get; } = [];
    /// <summary>Running-loss points logged during training.</summary>
    public List<LossPoint> Curve { get; } = [];
    public List<string> Log { get; } = [];

    /// <summary>Whether the wall-clock seconds per epoch are kept in the checkpoint (then two runs' checkpoints differ in them).</summary>
    public bool KeepsTimes { get; init; }

    public void Write(BinaryWriter w, Generator shuffle, nn.Module model, OptimizerHooks optimizer)
    {
        w.Write(Settings.Count);
        foreach (var (k, v) in Settings) { w.Write(k); w.Write(v); }
        w.Write(LearningRate);
        w.Write(EpochsDone);
        Checkpoint.WriteDoubles(w, EpochLoss);
        Checkpoint.WriteDoubles(w, EpochMetric);
        if (KeepsTimes) Checkpoint.WriteDoubles(w, EpochSeconds);
        w.Write(Curve.Count);
        foreach (var p in Curve) { w.Write(p.Epoch); w.Write(p.Batch); w.Write(p.Loss); }
        w.Write(Log.Count);
        foreach (string line in Log) w.Write(line);
        using (var state = shuffle.get_state()) Checkpoint.WriteTensor(w, state);
        model.save(w);
        optimizer.Save(w);
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote; refuses a checkpoint whose settings differ from <paramref name="given"/>, listing both.
    /// A setting added after the checkpoint was written counts as its value in <paramref name="before"/> (what runs did then).
    /// </summary>
    public static TrainingRecord Read(BinaryReader r, string path, IReadOnlyList<KeyValuePair<string, string>> given, bool keepsTimes,
        Generator shuffle, nn.Module model, OptimizerHooks optimizer,
        IReadOnlyDictionary<string, string>? before = null, IReadOnlyDictionary<string, string>? retired = null)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > 1000) throw new FormatException("bad settings count");
        var stored = new List<KeyValuePair<string, string>>();
        for (int i = 0; i < n; i++) stored.Add(new(r.ReadString(), r.ReadString()));
        string? Stored(string key) => stored.FirstOrDefault(s => s.Key == key).Value ?? before?.GetValueOrDefault(key);
        foreach (var (key, value) in stored)
            if (retired?.GetValueOrDefault(key) is string resumable && value != resumable)
                throw new UsageException($"--resume: {path} was made with {key} {value}, which TorchLabs no longer has (only {key} " +
                    $"{resumable} " +
                    "resumes); train again without --resume");
        var differ = given.Where(g => Stored(g.Key) != g.Value)
            .Select(g => $"{g.Key} {Stored(g.Key) ?? "(none)"} stored, {g.Value} given").ToList();
        if (differ.Count > 0)
            throw new UsageException($"--resume: {path} was made with other settings ({string.Join("; ", differ)}); run with the stored " +
                $"values or without --resume");
        var rec = new TrainingRecord
        {
            Settings = stored, LearningRate = r.ReadDouble(), EpochsDone = r.ReadInt32(),
            KeepsTimes = keepsTimes
        };
        // Every stored number in its range: a hand-edited checkpoint (checksum recomputed) must not train from epoch −5.
        if (!double.IsFinite(rec.LearningRate) || rec.LearningRate <= 0)
            throw new FormatException($"stored learning rate {rec.LearningRate} is not a finite number greater than 0");
        if (rec.EpochsDone is < 1 or > 1_000_000) throw new FormatException($"stored epochs done {rec.EpochsDone} is not in [1, 1000000]");
        rec.EpochLoss.AddRange(Checkpoint.ReadDoubles(r));
        rec.EpochMetric.AddRange(Checkpoint.ReadDoubles(r));
        if (keepsTimes) rec.EpochSeconds.AddRange(Checkpoint.ReadDoubles(r));
        if (rec.EpochLoss.Count != rec.EpochsDone || (keepsTimes && rec.EpochSeconds.Count != rec.EpochsDone))
            throw new FormatException($"{rec.EpochLoss.Count} epoch losses stored for {rec.EpochsDone} epochs done");
        int points = r.ReadInt32();
        if (points < 0 || points > 100_000_000) throw new FormatException($"bad count of loss points {points}");
        for (int i = 0; i < points; i++) rec.Curve.Add(new LossPoint(r.ReadInt32(), r.ReadInt32(), r.ReadDouble()));
        int lines = r.ReadInt32();
        if (lines < 0) throw new FormatException("negative length");
        for (int i = 0; i < lines; i++) rec.Log.Add(r.ReadString());
        using (var state = Checkpoint.ReadTensor(r)) shuffle.set_state(state);
        model.load(r);
        optimizer.Load(r);
        return rec;
    }
}

/// <summary>One mini-batch as the driver saw it: 0-based epoch and batch index, the loss, the batch's size.</summary>
public readonly record struct BatchDone(int Epoch, int Batch, int Batches, float Loss, long Size);

/// <summary>The records of one mini-batch: <see cref="Count"/> indices from <see cref="Start"/> of the epoch's order.</summary>
public readonly record struct TrainingBatch(long[] Order, int Start, int Count)
{
    /// <summary>The indices as a span: no libtorch call.</summary>
    public ReadOnlySpan<long> Indices => Order.AsSpan(Start, Count);

    /// <summary>The indices as an int64 tensor, for index_select.</summary>
    public Tensor IndexTensor() => tensor(Order.AsSpan(Start, Count).ToArray());
}

/// <summary>
/// The one training driver of cifar10 and fashion-mnist (the shape of pytorch/examples mnist/main.py's train()): for each epoch,
/// shuffle (or not), then per mini-batch zero_grad, forward and loss, a divergence stop on a non-finite loss, backward, step;
/// after each epoch the mean loss, the lab's evaluation, and a checkpoint. Resume reads the checkpoint and continues, with the
/// same numbers, bit for bit, as an uninterrupted run.
/// </summary>
public sealed class Trainer
{
    /// <summary>The checkpoint's kind ("cifar10", "fashion-mnist-sgd", …).</summary>
    public required string Kind { get; init; }
    /// <summary>Where the checkpoint goes after every epoch; null: none.</summary>
    public string? CheckpointPath { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];
    /// <summary>Settings added to <see cref="Settings"/> later, with the value a checkpoint written before them stands for.</summary>
    public IReadOnlyDictionary<string, string>? SettingsBefore { get; init; }
    /// <summary>Settings runs no longer take, with the one stored value that still resumes (any other is refused in one line).</summary>
    public IReadOnlyDictionary<string, string>? RetiredSettings { get; init; }
    /// <summary>Keep the seconds per epoch in the checkpoint, so that a resumed run reports every epoch's time (cifar10).</summary>
    public bool KeepsTimes { get; init; }
    public required int Epochs { get; init; }
    public required int Count { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>False: the examples in order every epoch (full-batch gradient descent).</summary>
    public bool Shuffle { get; init; } = true;
    public required double LearningRate { get; init; }
    public required nn.Module Model { get; init; }
    public required OptimizerHooks Optimizer { get; init; }
    public required Generator ShuffleGenerator { get; init; }
    /// <summary>Forward and loss for the examples of this mini-batch; the driver calls backward. Give this or <see
    /// cref="LossBackward"/>.</summary>
    public Func<TrainingBatch, Tensor>? Loss { get; init; }
    /// <summary>
    /// Forward, loss and backward in one call (the lab's own step, as the tutorial writes it: forward, loss, loss.backward()): returns the
    /// loss with the gradients already added. The divergence stop then comes after the backward, still before the step.
    /// </summary>
    public Func<TrainingBatch, float>? LossBackward { get; init; }
    /// <summary>Called after every step (logging, progress); may add to the record's curve and log.</summary>
    public Action<BatchDone, TrainingRecord>? OnBatch { get; init; }
    /// <summary>The lab's evaluation after each epoch (added to <see cref="TrainingRecord.EpochMetric"/>); null: none.</summary>
    public Func<double>? Evaluate { get; init; }
    /// <summary>Called after each epoch's checkpoint is written, with the epochs done.</summary>
    public Action<int, TrainingRecord>? OnEpochEnd { get; init; }
    /// <summary>Receives one line when a resume changes the learning rate.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Trains from the start, or from the checkpoint when <paramref name="resume"/>; returns the record of the whole
    /// run.</summary>
    public TrainingRecord Run(bool resume)
    {
        if ((Loss is null) == (LossBackward is null)) throw new InvalidOperationException("the trainer takes either Loss or LossBackward");
        var rec = new TrainingRecord { Settings = Settings, LearningRate = LearningRate, KeepsTimes = KeepsTimes };
        if (CheckpointPath is not null) AtomicFile.RemoveStaleTemporaries(Path.GetDirectoryName(Path.GetFullPath(CheckpointPath))!);
        if (resume)
        {
            if (CheckpointPath is null) throw new UsageException("--resume needs --out, the folder of the checkpoint");
            rec = Checkpoint.Load(CheckpointPath, Kind, r => TrainingRecord.Read(r, CheckpointPath, Settings, KeepsTimes, ShuffleGenerator,
                Model, Optimizer,
                SettingsBefore, RetiredSettings));
            if (rec.EpochsDone >= Epochs)
                throw new UsageException($"--resume: nothing to do: the checkpoint {CheckpointPath} has {rec.EpochsDone} epochs done, " +
                    $"--epochs is {Epochs} (the total); give a larger --epochs to train on");
            if (rec.LearningRate != LearningRate)
                Log?.Invoke($"resuming {Kind} after epoch {rec.EpochsDone} with --lr {F(LearningRate)} (the checkpoint's run used " +
                    $"{F(rec.LearningRate)})");
            // The optimizer's saved state carries the saved rate; the given one applies from here on.
            Optimizer.SetLearningRate(LearningRate);
            rec.LearningRate = LearningRate;
        }
        int batches = (Count + BatchSize - 1) / BatchSize;
        for (int epoch = rec.EpochsDone; epoch < Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            Model.train();
            long[] order;
            using (var perm = Shuffle ? randperm(Count, generator: ShuffleGenerator) : arange(Count)) order = perm.data<long>().ToArray();
            double sum = 0;
            long seen = 0;
            for (int i = 0; i < batches; i++)
            {
                using var scope = NewDisposeScope();
                var batch = new TrainingBatch(order, i * BatchSize, Math.Min(BatchSize, Count - i * BatchSize));
                Optimizer.ZeroGrad();
                var loss = Loss?.Invoke(batch);
                float value = loss is null ? LossBackward!(batch) : loss.item<float>();
                if (!float.IsFinite(value))
                    throw new LabFailedException($"{Kind}: training diverged: the loss is {value} at epoch {epoch + 1}, step {i + 1}; " +
                        $"try a smaller learning rate (--lr {F(LearningRate)} now)" +
                        (CheckpointPath is not null && File.Exists(CheckpointPath)
                            ? $"; the last good checkpoint, {CheckpointPath}, is kept" : ""));
                loss?.backward();
                Optimizer.Step();
                sum += value * batch.Count;
                seen += batch.Count;
                OnBatch?.Invoke(new BatchDone(epoch, i, batches, value, batch.Count), rec);
            }
            rec.EpochSeconds.Add(clock.Elapsed.TotalSeconds);
            rec.EpochLoss.Add(sum / seen);
            if (Evaluate is not null) rec.EpochMetric.Add(Evaluate());
            rec.EpochsDone = epoch + 1;
            if (CheckpointPath is not null)
            {
                using var saveScope = NewDisposeScope();   // the state-dict copies made while saving are freed right after
                Checkpoint.Save(CheckpointPath, Kind, w => rec.Write(w, ShuffleGenerator, Model, Optimizer));
            }
            OnEpochEnd?.Invoke(rec.EpochsDone, rec);
        }
        return rec;
    }

    static string F(double v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Softmax probabilities of <paramref name="count"/> examples in batches of <paramref name="batch"/>, without gradients (eval
    /// mode).</summary>
    public static float[][] Probabilities(nn.Module<Tensor, Tensor> net, Func<int, int, Tensor> inputs, int count, int batch)
    {
        net.eval();
        var probabilities = new float[count][];
        using var _ = no_grad();
        for (int start = 0; start < count; start += batch)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batch, count - start);
            var p = nn.functional.softmax(net.call(inputs(start, n)), 1).cpu();
            float[] flat = p.data<float>().ToArray();
            int classes = (int)p.shape[1];
            for (int i = 0; i < n; i++) probabilities[start + i] = flat.AsSpan(i * classes, classes).ToArray();
        }
        return probabilities;
    }
}
