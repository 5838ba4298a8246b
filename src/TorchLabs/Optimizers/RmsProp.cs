namespace TorchLabs.Optimizers;

/// <summary>
/// RMSProp (Tieleman and Hinton 2012), torch.optim.RMSprop: E[g²]_t = α E[g²]_{t−1} + (1 − α) g_t ⊙ g_t;
/// θ ← θ − η g_t / (√E[g²]_t + ε), α = 0.99 and ε = 1e-8 outside the root by default. Options as torch: momentum
/// (b ← μ b + g/(√E[g²]+ε), θ ← θ − η b) and centered (subtract the square of the running mean gradient).
/// The notes (000/001 Q3, lr 0.01, decay 0.9) keeps one scalar accumulator, puts 1e-9 outside the root, and assigns
/// x = lr*g/(...) instead of subtracting: see Reference/NotesForms and the report's errata.
/// </summary>
public sealed class RmsProp : HandOptimizer
{
    public double Alpha { get; }
    public double Eps { get; }
    public double Mu { get; }
    public bool Centered { get; }

    /// <summary>torch.optim.RMSprop(params, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0, momentum=0,
    /// centered=False), its parameters laid out as its signature line.</summary>
    // csharpier-ignore
    public RmsProp(IEnumerable<Tensor> parameters, double lr = 0.01, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(parameters, lr, weightDecay)
    {
        Alpha = Ranges.Alpha.Require(alpha, nameof(alpha));
        Eps = Ranges.Eps.Require(eps, nameof(eps));
        Mu = Ranges.Momentum.Require(momentum, nameof(momentum));
        Centered = centered;
    }

    protected override void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t)
    {
        var Eg2 = Buffer(s, "square_avg", () => zeros_like(p));
        Eg2.Mul_(Alpha).Addcmul_(g, g, 1 - Alpha); // E[g²]_t = α E[g²]_{t−1} + (1 − α) g ⊙ g
        Tensor denom;
        if (Centered)
        {
            var Eg = Buffer(s, "grad_avg", () => zeros_like(p));
            Eg.Mul_(Alpha).Add_(g, 1 - Alpha); // E[g]_t = α E[g]_{t−1} + (1 − α) g
            denom = Eg2.Addcmul(Eg, Eg, -1).sqrt_().Add_(Eps); // √(E[g²] − E[g]²) + ε
        }
        else
        {
            denom = Eg2.sqrt().Add_(Eps); // √E[g²]_t + ε
        }
        if (Mu > 0)
        {
            var b = Buffer(s, "momentum_buffer", () => zeros_like(p));
            b.Mul_(Mu).Addcdiv_(g, denom, 1); // b ← μ b + g / denom
            p.Add_(b, -LearningRate); // θ ← θ − η b
        }
        else
        {
            p.Addcdiv_(g, denom, -LearningRate); // θ ← θ − η g / (√E[g²]_t + ε)
        }
    }
}
