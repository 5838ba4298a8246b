namespace TorchLabs.Optimizers;

/// <summary>
/// AdaGrad (Duchi et al. 2011), torch.optim.Adagrad: per-coordinate sum of squared gradients,
/// G_t = G_{t−1} + g_t ⊙ g_t; η_t = η / (1 + (t − 1) · lr_decay); θ ← θ − η_t g_t / (√G_t + ε), ε = 1e-10 outside the
/// root. The notes (000/001 Q3, lr 0.1) keeps one scalar G (the sum over all components) and puts 1e-9 inside the root:
/// see Reference/NotesForms and the report's errata.
/// </summary>
public sealed class AdaGrad : HandOptimizer
{
    public double Eps { get; }
    public double LrDecay { get; }
    public double InitialAccumulatorValue { get; }

    /// <summary>torch.optim.Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    /// eps=1e-10), its parameters laid out as its signature line.</summary>
    // csharpier-ignore
    public AdaGrad(IEnumerable<Tensor> parameters, double lr = 0.01, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10)
        : base(parameters, lr, weightDecay)
    {
        Eps = Ranges.Eps.Require(eps, nameof(eps));
        LrDecay = Ranges.LrDecay.Require(lrDecay, nameof(lrDecay));
        InitialAccumulatorValue = Ranges.InitialAccumulator.Require(
            initialAccumulatorValue,
            nameof(initialAccumulatorValue)
        );
    }

    protected override void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t)
    {
        var G = Buffer(s, "sum", () => full_like(p, InitialAccumulatorValue));
        double eta = LearningRate / (1 + (t - 1) * LrDecay); // η_t = η / (1 + (t − 1) lr_decay)
        G.Addcmul_(g, g, 1); // G_t = G_{t−1} + g ⊙ g
        var denom = G.sqrt().Add_(Eps); // √G_t + ε
        p.Addcdiv_(g, denom, -eta); // θ ← θ − η_t g / (√G_t + ε)
    }
}
