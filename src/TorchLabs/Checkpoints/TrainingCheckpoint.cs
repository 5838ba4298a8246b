using System.Globalization;

namespace TorchLabs.Checkpoints;

/// <summary>How a training loop calls its optimizer (TorchSharp's here; the fast path's fused SGD and the hand ones
/// give theirs, <c>Hooks()</c>), in TorchSharp's words, with its state saved beside the model's.</summary>
public sealed record OptimizerHooks(
    Action zero_grad,
    Action step,
    Action<BinaryWriter> Save,
    Action<BinaryReader> Load,
    Action<double> SetLearningRate
)
{
    /// <summary>A TorchSharp optimizer: its state in TorchSharp's own format, the learning rate set in every parameter
    /// group.</summary>
    /// <remarks>The step runs with no garbage collection (<see cref="WithoutCollection"/>): TorchSharp's optimizers do
    /// not keep their temporary Scalars alive.</remarks>
    public static OptimizerHooks For(TorchSharp.Modules.OptimizerHelper o) =>
        new(
            o.zero_grad,
            () => WithoutCollection.Run(() => o.step()),
            o.save_state_dict,
            o.load_state_dict,
            lr =>
            {
                foreach (var group in o.ParamGroups)
                    group.LearningRate = lr;
            }
        );
}

/// <summary>One logged point of the training loss: the running mean over the last LogEvery mini-batches (epoch
/// and mini-batch 1-based, as the tutorial prints them).</summary>
public sealed record LossPoint(int Epoch, int Batch, double Loss);

/// <summary>
/// What a training checkpoint holds, written and read side by side: the settings that shaped the run, the epochs done,
/// the curves so far, the log, the shuffling generator, the model and the optimizer's state.
/// </summary>
public sealed class TrainingRecord
{
    /// <summary>Every setting that shapes the run (option → value as given); a resume with other values is
    /// refused.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];

    /// <summary>The learning rate of the run that wrote the checkpoint (a resume may change it; the log says
    /// so).</summary>
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

    /// <summary>
    /// What libtorch's <c>CPUGeneratorImpl::set_state</c> would refuse by ending the process, or null. The state is
    /// CPUGeneratorImplState (ATen/CPUGeneratorImpl.cpp): the_initial_seed (8 bytes), left (int32), seeded (int32),
    /// next (uint64), then the 624 words of mt19937 and the normal-sampling cache; mt19937 takes it only when seeded, 1
    /// ≤ left ≤ 624 and next ≤ 624.
    /// </summary>
    static string? GeneratorStateProblem(ReadOnlySpan<byte> state)
    {
        if (state.Length < 24)
            return "a generator state too short";
        int left = BitConverter.ToInt32(state[8..12]),
            seeded = BitConverter.ToInt32(state[12..16]);
        ulong next = BitConverter.ToUInt64(state[16..24]);
        return seeded != 0 && left is >= 1 and <= 624 && next <= 624
            ? null
            : $"an invalid mt19937 generator state (left {left}, seeded {seeded}, next {next})";
    }

    /// <summary>Closes an epoch: its mean loss, its time, the lab's evaluation if any, one more epoch done.</summary>
    public void EndEpoch(double meanLoss, double seconds, double? metric = null)
    {
        EpochLoss.Add(meanLoss);
        EpochSeconds.Add(seconds);
        if (metric is double m)
            EpochMetric.Add(m);
        EpochsDone++;
    }

    /// <summary>Whether the wall-clock seconds per epoch are kept in the checkpoint (then two runs' checkpoints differ
    /// in them).</summary>
    public bool KeepsTimes { get; init; }

    public void Write(BinaryWriter w, Generator shuffle, nn.Module model, OptimizerHooks optimizer)
    {
        w.Write(Settings.Count);
        foreach (var (k, v) in Settings)
        {
            w.Write(k);
            w.Write(v);
        }
        w.Write(LearningRate);
        w.Write(EpochsDone);
        Checkpoint.WriteDoubles(w, EpochLoss);
        Checkpoint.WriteDoubles(w, EpochMetric);
        if (KeepsTimes)
            Checkpoint.WriteDoubles(w, EpochSeconds);
        w.Write(Curve.Count);
        foreach (var p in Curve)
        {
            w.Write(p.Epoch);
            w.Write(p.Batch);
            w.Write(p.Loss);
        }
        w.Write(Log.Count);
        foreach (string line in Log)
            w.Write(line);
        using (var state = shuffle.get_state())
            Checkpoint.WriteTensor(w, state);
        model.save(w);
        optimizer.Save(w);
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote; refuses a checkpoint whose settings differ from <paramref name="given"/>,
    /// listing both. A setting added after the checkpoint was written counts as its value in <paramref name="before"/>
    /// (what runs did then).
    /// </summary>
    public static TrainingRecord Read(
        BinaryReader r,
        string path,
        IReadOnlyList<KeyValuePair<string, string>> given,
        bool keepsTimes,
        Generator shuffle,
        nn.Module model,
        OptimizerHooks optimizer,
        IReadOnlyDictionary<string, string>? before = null,
        IReadOnlyDictionary<string, string>? retired = null
    )
    {
        int n = r.ReadInt32();
        if (n < 0 || n > 1000)
            throw new FormatException("bad settings count");
        var stored = new List<KeyValuePair<string, string>>();
        // Checkpoints written before settings were marked name them as flags (--seed): read as ‹seed›.
        for (int i = 0; i < n; i++)
        {
            string key = Setting.FromFlags(Checkpoint.ReadString(r));
            stored.Add(new(key, Setting.FromFlags(Checkpoint.ReadString(r))));
        }
        string? Stored(string key) => stored.FirstOrDefault(s => s.Key == key).Value ?? before?.GetValueOrDefault(key);
        foreach (var (key, value) in stored)
            if (retired?.GetValueOrDefault(key) is string resumable && value != resumable)
                throw new UsageException(
                    $"‹resume›: {path} was made with {key} {value}, which TorchLabs no longer has (only {key} {resumable} resumes); train again without ‹resume›"
                );
        var differ = given
            .Where(g => Stored(g.Key) != g.Value)
            .Select(g => $"{g.Key} {Stored(g.Key) ?? "(none)"} stored, {g.Value} given")
            .ToList();
        if (differ.Count > 0)
            throw new UsageException(
                $"‹resume›: {path} was made with other settings ({string.Join("; ", differ)}); run with the stored "
                    + $"values or without ‹resume›"
            );
        var rec = new TrainingRecord
        {
            Settings = stored,
            LearningRate = r.ReadDouble(),
            EpochsDone = r.ReadInt32(),
            KeepsTimes = keepsTimes,
        };
        // Every stored number in its range: a hand-edited checkpoint (checksum recomputed) must not train from epoch
        // −5.
        if (!double.IsFinite(rec.LearningRate) || rec.LearningRate <= 0)
            throw new FormatException($"stored learning rate {rec.LearningRate} is not a finite number greater than 0");
        if (rec.EpochsDone is < 1 or > 1_000_000)
            throw new FormatException($"stored epochs done {rec.EpochsDone} is not in [1, 1000000]");
        rec.EpochLoss.AddRange(Checkpoint.ReadDoubles(r));
        rec.EpochMetric.AddRange(Checkpoint.ReadDoubles(r));
        if (keepsTimes)
            rec.EpochSeconds.AddRange(Checkpoint.ReadDoubles(r));
        if (rec.EpochLoss.Count != rec.EpochsDone || (keepsTimes && rec.EpochSeconds.Count != rec.EpochsDone))
            throw new FormatException($"{rec.EpochLoss.Count} epoch losses stored for {rec.EpochsDone} epochs done");
        int points = r.ReadInt32();
        if (points < 0 || points > 100_000_000)
            throw new FormatException($"bad count of loss points {points}");
        for (int i = 0; i < points; i++)
            rec.Curve.Add(new LossPoint(r.ReadInt32(), r.ReadInt32(), r.ReadDouble()));
        int lines = r.ReadInt32();
        if (lines < 0)
            throw new FormatException("negative length");
        for (int i = 0; i < lines; i++)
            rec.Log.Add(Checkpoint.ReadString(r));
        using (var state = Checkpoint.ReadTensor(r))
        using (var own = shuffle.get_state())
        {
            // libtorch aborts the process on a state it refuses (fuzzing found it): the same checks are made here
            // first.
            if (state.dtype != own.dtype || !state.shape.SequenceEqual(own.shape))
                throw new FormatException($"a generator state of {state.numel()} elements; expected {own.numel()}");
            if (GeneratorStateProblem(state.bytes) is string problem)
                throw new FormatException(problem);
            shuffle.set_state(state);
        }
        model.load(r);
        optimizer.Load(r);
        return rec;
    }
}

/// <summary>
/// What a lab's training loop asks of its checkpoint, one visible line each: <see cref="Start"/> before the loop (a
/// fresh record, or the checkpoint's: settings checked, the generator, model and optimizer restored), <see
/// cref="StopIfDiverged"/> after a step, <see cref="Save"/> at the end of an epoch. Resuming gives, bit for bit, the
/// numbers of an uninterrupted run.
/// </summary>
public sealed class TrainingCheckpoint
{
    /// <summary>The checkpoint's kind ("cifar10", "fashion-mnist-sgd", …).</summary>
    public required string Kind { get; init; }

    /// <summary>Where the checkpoint goes after every epoch; null: none.</summary>
    public string? Path { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];

    /// <summary>Settings added to <see cref="Settings"/> later, with the value a checkpoint written before them stands
    /// for.</summary>
    public IReadOnlyDictionary<string, string>? SettingsBefore { get; init; }

    /// <summary>Settings runs no longer take, with the one stored value that still resumes (any other is refused in one
    /// line).</summary>
    public IReadOnlyDictionary<string, string>? RetiredSettings { get; init; }

    /// <summary>Keep the seconds per epoch in the checkpoint, so that a resumed run reports every epoch's time
    /// (cifar10).</summary>
    public bool KeepsTimes { get; init; }
    public required double LearningRate { get; init; }
    public required nn.Module Model { get; init; }
    public required OptimizerHooks Optimizer { get; init; }

    /// <summary>The generator the loop draws from (the shuffle); its state is saved, so a resumed run draws what a
    /// straight one would.</summary>
    public required Generator Generator { get; init; }

    /// <summary>The record to go on from: a fresh one, or with <paramref name="resume"/> the checkpoint's, after which
    /// the model, the optimizer and <see cref="Generator"/> hold the state of the end of its last epoch.</summary>
    public TrainingRecord Start(bool resume, int epochs, Action<string>? log = null)
    {
        var rec = new TrainingRecord
        {
            Settings = Settings,
            LearningRate = LearningRate,
            KeepsTimes = KeepsTimes,
        };
        if (Path is not null)
            AtomicFile.RemoveStaleTemporaries(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        if (!resume)
            return rec;
        if (Path is null)
            throw new UsageException("‹resume› needs ‹out›, the folder of the checkpoint");
        rec = Checkpoint.Load(Path, Kind, r =>
            TrainingRecord.Read(
                r,
                Path,
                Settings,
                KeepsTimes,
                Generator,
                Model,
                Optimizer,
                SettingsBefore,
                RetiredSettings
            )
        );
        if (rec.EpochsDone >= epochs)
        {
            string done = $"the checkpoint {Path} has {rec.EpochsDone} epochs done, ‹epochs› is {epochs} (the total)";
            throw new UsageException($"‹resume›: nothing to do: {done}; give a larger ‹epochs› to train on");
        }
        if (rec.LearningRate != LearningRate)
        {
            string used = $"(the checkpoint's run used {F(rec.LearningRate)})";
            log?.Invoke(
                $"resuming {Kind} after epoch {rec.EpochsDone} with the learning rate {F(LearningRate)} {used}"
            );
        }
        // The optimizer's saved state carries the saved rate; the given one applies from here on.
        Optimizer.SetLearningRate(LearningRate);
        rec.LearningRate = LearningRate;
        return rec;
    }

    /// <summary>Ends the run with <see cref="LabFailedException"/> when <paramref name="loss"/> is not finite (0-based
    /// epoch and step); the last good checkpoint stays on disk.</summary>
    public void StopIfDiverged(double loss, int epoch, int step)
    {
        if (double.IsFinite(loss))
            return;
        string where = $"the loss is {loss} at epoch {epoch + 1}, step {step + 1}";
        throw new LabFailedException(
            $"{Kind}: training diverged: {where}; try a smaller learning rate (‹lr› {F(LearningRate)} now)"
                + (Path is not null && File.Exists(Path) ? $"; the last good checkpoint, {Path}, is kept" : "")
        );
    }

    /// <summary>Writes the checkpoint of <paramref name="rec"/> (nothing when <see cref="Path"/> is null).</summary>
    public void Save(TrainingRecord rec)
    {
        if (Path is null)
            return;
        using var saveScope = NewDisposeScope(); // the state-dict copies made while saving are freed right after
        Checkpoint.Save(Path, Kind, w => rec.Write(w, Generator, Model, Optimizer));
    }

    static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
}
