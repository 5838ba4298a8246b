using TorchLabs.Optimizers;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Models;

/// <summary>
/// The tutorial Net's training step (<see cref="CifarNet.LossBackward"/>) with each mini-batch split into two
/// lanes: the first ⌈N/2⌉ examples on the calling thread, the other ⌊N/2⌋ on a second one (<see cref="LaneWorker"/>), through a
/// replica of the Net that shares its weights θ and has its own gradient buffer g₂ (<see cref="FlatSgd.AttachReplica"/>).
/// The mathematics is the batch's: L = (n₁ L₁ + n₂ L₂)/N and ∇L = (n₁/N) ∇L₁ + (n₂/N) ∇L₂, each lane weighting its head's
/// δ₃ by nₖ/N, and the step adds g + g₂. Only the order of the float32 additions changes (a convolution's weight gradient
/// sums two examples, then adds the other lane's two), so the numbers equal the one-lane step to float32 rounding (tested).
/// The split is part of the numbers, not of the machine: with one core (or <c>concurrent: false</c>) the two lanes run one
/// after the other on the calling thread and give the same numbers, bit for bit.
/// Because the numbers do not depend on it, whether the lanes run at once is decided as training goes (<see cref="LaneSchedule"/>):
/// on a quiet machine two cores are faster; with another process on one core, two spinning lanes were 4× slower than one
/// (20,000 images: 6.4 s against 1.6 s), so the step measures both ways and keeps the faster. In turn, though, two half
/// batches cost ≈ 1.5× one whole batch (each pays the per-call costs), so under load two lanes stay ≈ 1.5× slower than one
/// lane (2.7 s against 1.7 s), and one lane is the default. Even with the second core free the gain depends on the hour:
/// 8–16 % faster in some runs, 25–30 % slower in others, while two separate one-lane processes kept their speed side by side;
/// the lanes share θ and g₂, which move between the cores' caches every step (docs/performance.md, round four).
/// </summary>
public sealed class CifarNetLanes : IDisposable
{
    readonly CifarNet net;
    readonly CifarNet? replica;
    readonly LaneWorker? worker;
    readonly LaneSchedule schedule = new();
    readonly bool hand;   // the step's path, fixed for both lanes whichever thread runs them (CifarNet.LossBackward)

    /// <summary>Steps whose two lanes ran at once, and one after the other.</summary>
    public long StepsAtOnce { get; private set; }
    public long StepsInTurn { get; private set; }

    public CifarNetLanes(CifarNet net, FlatSgd optimizer, int lanes, bool concurrent)
    {
        if (lanes is not (1 or 2)) throw new UsageException($"--lanes {lanes}: expected 1 or 2");
        this.net = net;
        hand = get_num_threads() == 1;
        if (lanes == 1) return;
        using var gen = new Generator(0);                       // its own weights are replaced by θ at once
        replica = new CifarNet(gen);
        optimizer.AttachReplica([.. replica.parameters()]);
        if (concurrent) worker = new LaneWorker("torchlabs-lane-2");
    }

    /// <summary>L of the batch; its gradients are added to the Net's and the replica's buffers (the optimizer's g and g₂).</summary>
    public float LossBackward(Tensor x, Tensor y)
    {
        long N = x.shape[0];
        if (replica is null || N < 2) return net.LossBackward(x, y, hand: hand);
        long n1 = (N + 1) / 2, n2 = N - n1;
        float w1 = (float)n1 / N, w2 = (float)n2 / N;           // nₖ/N
        Tensor x2 = x.narrow(0, n1, n2), y2 = y.narrow(0, n1, n2);
        float l2 = 0;
        bool atOnce = worker is not null && schedule.AtOnce;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (atOnce) worker!.Post(() => l2 = replica.LossBackward(x2, y2, w2, hand));
        float l1;
        try { l1 = net.LossBackward(x.narrow(0, 0, n1), y.narrow(0, 0, n1), w1, hand); }
        catch when (atOnce)
        {
            try { worker!.Wait(); } catch { }                       // lane 2 reads this batch: it must be done before the batch is freed
            throw;                                                   // lane 1's error is the one reported
        }
        if (atOnce) worker!.Wait();
        else l2 = replica.LossBackward(x2, y2, w2, hand);
        if (atOnce) StepsAtOnce++; else StepsInTurn++;
        if (worker is not null) schedule.Record(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        return w1 * l1 + w2 * l2;                                // L = (n₁ L₁ + n₂ L₂)/N
    }

    public void Dispose() => worker?.Dispose();
}

/// <summary>
/// Chooses, window by window, whether two lanes run at once or in turn: after <see cref="Warmup"/> untimed steps (compilation,
/// caches: the first measurement picked the wrong mode without them), windows of <see cref="Window"/> steps, timed without
/// their first <see cref="Settle"/> steps (a sleeping thread's wake-up); after each mode has a time, the faster one runs for
/// <see cref="Stay"/> windows, then the other is timed again for one window, so a change in the machine's load is seen within
/// about a thousand steps. Starts at once; the numbers are the same either way.
/// </summary>
public sealed class LaneSchedule
{
    public const int Window = 16, Settle = 2, Stay = 64, Warmup = 32;

    double atOnceMean = double.NaN, inTurnMean = double.NaN, sum;
    int inWindow, windowsLeft = 1;
    bool probing = true;                                         // the window under way times a mode for the comparison
    public bool AtOnce { get; private set; } = true;
    public long StepsAtOnce { get; private set; }
    public long StepsInTurn { get; private set; }

    /// <summary>The step just taken in the current mode took <paramref name="microseconds"/>.</summary>
    public void Record(double microseconds)
    {
        if (AtOnce) StepsAtOnce++; else StepsInTurn++;
        if (StepsAtOnce + StepsInTurn <= Warmup) return;           // the first steps compile code and fill caches: not timed
        if (inWindow++ >= Settle) sum += microseconds;
        if (inWindow < Window) return;
        double mean = sum / (Window - Settle);
        if (AtOnce) atOnceMean = mean; else inTurnMean = mean;
        sum = 0;
        inWindow = 0;
        if (--windowsLeft > 0) return;
        if (double.IsNaN(atOnceMean) || double.IsNaN(inTurnMean)) { AtOnce = !AtOnce; windowsLeft = 1; }   // time the other mode
        else if (probing) { AtOnce = atOnceMean <= inTurnMean; probing = false; windowsLeft = Stay; }    // keep the faster
        else { AtOnce = !AtOnce; probing = true; windowsLeft = 1; }                                       // then time the other again
    }
}
