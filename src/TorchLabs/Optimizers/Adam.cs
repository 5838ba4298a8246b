namespace TorchLabs.Optimizers;

/// <summary>
/// Adam (Kingma and Ba 2015, Algorithm 1), torch.optim.Adam:
/// m_t = β₁ m_{t−1} + (1 − β₁) g_t; v_t = β₂ v_{t−1} + (1 − β₂) g_t ⊙ g_t;
/// m̂_t = m_t / (1 − β₁ᵗ); v̂_t = v_t / (1 − β₂ᵗ); θ ← θ − η m̂_t / (√v̂_t + ε), ε = 1e-8 outside √v̂_t.
/// Weight decay is torch's L2 form (added to g), not AdamW. Option amsgrad: v̂ uses the running maximum of v.
/// The notes (000/001 Q3, lr 0.1) corrects v with 1 − ρ₁ᵗ instead of 1 − ρ₂ᵗ: see the report's errata.
/// </summary>
public sealed class Adam : HandOptimizer
{
    /// <summary>(β₁, β₂), torch's <c>betas</c>.</summary>
    public (double Beta1, double Beta2) Betas { get; }
    public double Eps { get; }
    public bool AmsGrad { get; }

    /// <summary>torch.optim.Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False);
    /// the parameters laid out as its signature line.</summary>
    /// <param name="betas">torch's betas, (0.9, 0.999) when null.</param>
    // csharpier-ignore
    public Adam(IEnumerable<Tensor> parameters, double lr = 0.001, (double Beta1, double Beta2)? betas = null,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : base(parameters, lr, weightDecay)
    {
        Betas = betas ?? (0.9, 0.999);
        Ranges.Beta.Require(Betas.Beta1, "beta1");
        Ranges.Beta.Require(Betas.Beta2, "beta2");
        Eps = Ranges.Eps.Require(eps, nameof(eps));
        AmsGrad = amsgrad;
    }

    protected override void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t)
    {
        var (β1, β2) = Betas;
        var m = Buffer(s, "exp_avg", () => zeros_like(p));
        var v = Buffer(s, "exp_avg_sq", () => zeros_like(p));
        m.Mul_(β1).Add_(g, 1 - β1); // m_t = β₁ m_{t−1} + (1 − β₁) g
        v.Mul_(β2).Addcmul_(g, g, 1 - β2); // v_t = β₂ v_{t−1} + (1 − β₂) g ⊙ g
        double bc1 = 1 - Math.Pow(β1, t); // 1 − β₁ᵗ
        double bc2 = 1 - Math.Pow(β2, t); // 1 − β₂ᵗ
        if (AmsGrad)
        {
            var vMax = Buffer(s, "max_exp_avg_sq", () => zeros_like(p));
            vMax.copy_(maximum(vMax, v)); // v_max = max(v_max, v_t)
            v = vMax;
        }
        var denom = v.sqrt().Div_(Math.Sqrt(bc2)).Add_(Eps); // √v̂_t + ε, with √v̂_t = √v_t / √(1 − β₂ᵗ)
        p.Addcdiv_(m, denom, -LearningRate / bc1); // θ ← θ − η m̂_t / (√v̂_t + ε), m̂_t = m_t / (1 − β₁ᵗ)
    }
}
