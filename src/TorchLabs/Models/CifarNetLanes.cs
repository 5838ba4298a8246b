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
/// </summary>
public sealed class CifarNetLanes : IDisposable
{
    readonly CifarNet net;
    readonly CifarNet? replica;
    readonly LaneWorker? worker;

    /// <summary>The lanes a batch is split into: 1 or 2.</summary>
    public int Lanes { get; }
    /// <summary>Whether the second lane runs on its own thread (two lanes and at least two cores).</summary>
    public bool Concurrent => worker is not null;

    public CifarNetLanes(CifarNet net, FlatSgd optimizer, int lanes, bool concurrent)
    {
        if (lanes is not (1 or 2)) throw new UsageException($"--lanes {lanes}: expected 1 or 2");
        this.net = net;
        Lanes = lanes;
        if (lanes == 1) return;
        using var gen = new Generator(0);                       // its own weights are replaced by θ at once
        replica = new CifarNet(gen);
        optimizer.AttachReplica([.. replica.parameters()]);
        if (concurrent) worker = new LaneWorker("torchlabs-lane-2");
    }

    /// <summary>The lanes by default: two below <see cref="TorchRuntime.SmallBatch"/> examples (the ops are too small for libtorch's own threads), else one.</summary>
    public static int DefaultLanes(int batchSize) => batchSize >= 2 && batchSize < TorchRuntime.SmallBatch ? 2 : 1;

    /// <summary>L of the batch; its gradients are added to the Net's and the replica's buffers (the optimizer's g and g₂).</summary>
    public float LossBackward(Tensor x, Tensor y)
    {
        long N = x.shape[0];
        if (replica is null || N < 2) return net.LossBackward(x, y);
        long n1 = (N + 1) / 2, n2 = N - n1;
        float w1 = (float)n1 / N, w2 = (float)n2 / N;           // nₖ/N
        Tensor x2 = x.narrow(0, n1, n2), y2 = y.narrow(0, n1, n2);
        float l2 = 0;
        if (worker is not null) worker.Post(() => l2 = replica.LossBackward(x2, y2, w2));
        float l1 = net.LossBackward(x.narrow(0, 0, n1), y.narrow(0, 0, n1), w1);
        if (worker is not null) worker.Wait();
        else l2 = replica.LossBackward(x2, y2, w2);
        return w1 * l1 + w2 * l2;                                // L = (n₁ L₁ + n₂ L₂)/N
    }

    public void Dispose() => worker?.Dispose();
}
