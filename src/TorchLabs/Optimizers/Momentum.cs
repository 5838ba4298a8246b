namespace TorchLabs.Optimizers;

/// <summary>
/// Heavy-ball momentum, torch.optim.SGD(momentum=μ, dampening=τ):
/// b₁ = g₁, then b_t = μ b_{t−1} + (1 − τ) g_t; θ ← θ − η b_t.
/// Torch's convention: the buffer starts as the first gradient (no dampening on step 1).
/// The notes (000/001 Q3, lr 1e-3, μ 0.1) writes v ← μ v − η g, θ ← θ + v with v₀ = 0; for a constant η this is
/// the same sequence with v = −η b (the reference's notes form checks it).
/// </summary>
public sealed class Momentum : HandOptimizer
{
    public double Mu { get; }
    public double Dampening { get; }

    /// <summary>torch.optim.SGD(params, lr, momentum, dampening=0, weight_decay=0); the parameters laid out as its
    /// signature line.</summary>
    // csharpier-ignore
    public Momentum(IEnumerable<Tensor> parameters, double lr, double momentum, double dampening = 0,
        double weightDecay = 0)
        : base(parameters, lr, weightDecay)
    {
        Mu = Ranges.Momentum.Require(momentum, nameof(momentum));
        Dampening = Ranges.Dampening.Require(dampening, nameof(dampening));
    }

    protected override void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t)
    {
        var b = s.TryGetValue("momentum_buffer", out var previous)
            ? previous.Mul_(Mu).Add_(g, 1 - Dampening) // b_t = μ b_{t−1} + (1 − τ) g_t
            : Buffer(s, "momentum_buffer", () => g.clone()); // b₁ = g₁ (the buffer starts as the first gradient)
        p.Add_(b, -LearningRate); // θ ← θ − η b_t
    }
}
