using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchLabs.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchLabs.Optimizers;

/// <summary>
/// torch.optim.SGD's fused option (as tinygrad's <c>fused=</c>): torch.optim.SGD with momentum μ (dampening 0, no weight decay, no
/// Nesterov) over flat buffers: every parameter is made a view
/// of one tensor θ and its gradient a view of one tensor g, into which autograd accumulates. Then zero_grad is one op and the
/// step one pass over the buffers (three libtorch ops off the CPU), whatever the number of parameters, instead of about forty:
/// b₁ = g₁, b_t = μ b_{t−1} + g_t (torch's buffer, starting as the first gradient); θ ← θ − η b_t.
/// Element by element the same operations as torch.optim.SGD, so the same numbers (tested bit for bit on the tutorial's Net).
/// </summary>
public sealed class FlatSgd : IDisposable
{
    readonly Tensor theta, g;
    Tensor? b;
    readonly Scalar mu;
    Scalar negLr;   // −η, made once: a Scalar per call costs an allocation and a native handle
    public double LearningRate { get; private set; }
    public double Momentum { get; }
    public long Steps { get; private set; }

    public FlatSgd(IReadOnlyList<TorchSharp.Modules.Parameter> parameters, double lr, double momentum)
    {
        if (parameters.Count == 0) throw new ArgumentException("optimizer got an empty parameter list");
        LearningRate = Ranges.Lr.Require(lr, nameof(lr));
        Momentum = Ranges.Momentum.Require(momentum, nameof(momentum));
        mu = momentum;
        negLr = -lr;
        using var _ = no_grad();
        // The buffers live as long as the optimizer, whatever dispose scope it is made or stepped in.
        theta = cat(parameters.Select(p => p.detach().flatten()).ToList()).DetachFromDisposeScope();
        g = zeros_like(theta).DetachFromDisposeScope();
        long offset = 0;
        foreach (var p in parameters)
        {
            long n = p.numel();
            p.set_(theta.narrow(0, offset, n).view(p.shape));     // θ's slice is now the parameter's storage
            p.grad = g.narrow(0, offset, n).view(p.shape);          // autograd accumulates into g's slice
            offset += n;
        }
    }

    /// <summary>Zeroes every gradient at once (g ← 0); the gradient tensors stay, as views of g.</summary>
    public void zero_grad() => g.zero_();

    /// <summary>One update of every parameter: b ← μ b + g (b₁ = g₁), θ ← θ − η b.</summary>
    public void step()
    {
        using var _ = no_grad();
        if (b is not null && theta.dtype == ScalarType.Float32 && theta.device_type == DeviceType.CPU && Fma.IsSupported)
            OnePass();
        else
        {
            b = b is null ? g.clone().DetachFromDisposeScope() : b.mul_(mu).add_(g);   // b₁ = g₁; b_t = μ b_{t−1} + g_t
            theta.add_(b, negLr);                            // θ ← θ − η b_t
        }
        Steps++;
    }

    /// <summary>
    /// The same update in one pass over θ, g and b instead of three libtorch calls, rounded as libtorch rounds it:
    /// μ b (one rounding) + g (one rounding) as mul_ then add_, and θ + (−η) b as one fused multiply-add, which is what
    /// libtorch's vectorised add_(other, alpha) computes (tested bit for bit against torch.optim.SGD).
    /// </summary>
    void OnePass()
    {
        var th = MemoryMarshal.Cast<byte, float>(theta.bytes);
        var gr = MemoryMarshal.Cast<byte, float>(g.bytes);
        var bu = MemoryMarshal.Cast<byte, float>(b!.bytes);
        float m = (float)Momentum, a = (float)-LearningRate;
        var mv = Vector256.Create(m);
        var av = Vector256.Create(a);
        int i = 0;
        for (; i <= th.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var bt = Vector256.Create(bu.Slice(i, 8)) * mv + Vector256.Create(gr.Slice(i, 8));   // b_t = μ b_{t−1} + g_t
            bt.CopyTo(bu.Slice(i, 8));
            Fma.MultiplyAdd(bt, av, Vector256.Create(th.Slice(i, 8))).CopyTo(th.Slice(i, 8));   // θ ← θ − η b_t
        }
        for (; i < th.Length; i++)
        {
            bu[i] = bu[i] * m + gr[i];
            th[i] = MathF.FusedMultiplyAdd(bu[i], a, th[i]);
        }
    }

    public void SetLearningRate(double lr)
    {
        LearningRate = Ranges.Lr.Require(lr, nameof(lr));
        negLr.Dispose();
        negLr = -lr;
    }

    /// <summary>The step count and the momentum buffer (exact bytes).</summary>
    public void SaveState(BinaryWriter w)
    {
        w.Write(Steps);
        w.Write(b is not null);
        if (b is not null) Checkpoint.WriteTensor(w, b);
    }

    public void LoadState(BinaryReader r)
    {
        Steps = r.ReadInt64();
        b?.Dispose();
        b = r.ReadBoolean() ? Checkpoint.ReadTensor(r).DetachFromDisposeScope() : null;
        if (b is not null && !b.shape.SequenceEqual(theta.shape)) throw new FormatException("momentum buffer of another size");
    }

    public void Dispose()
    {
        b?.Dispose();
        theta.Dispose();   // the parameters keep the storage alive: they are views of it
        g.Dispose();
        mu.Dispose();
        negLr.Dispose();
    }
}
