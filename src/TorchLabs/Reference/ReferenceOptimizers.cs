namespace TorchLabs.Reference;

/// <summary>
/// The six optimizers on plain double arrays, no TorchSharp: the independent oracle for Optimizers/.
/// Each works coordinate by coordinate with torch.optim's conventions (see the TorchSharp versions' comments).
/// </summary>
public abstract class ReferenceOptimizer
{
    protected ReferenceOptimizer(double lr, double weightDecay) { LearningRate = lr; WeightDecay = weightDecay; }

    public double LearningRate { get; set; }
    public double WeightDecay { get; }

    /// <summary>Number of updates so far (t after the step is 1-based).</summary>
    public long T { get; private set; }

    /// <summary>One update of the parameter blocks <paramref name="theta"/> with gradients <paramref name="grad"/>, in place.</summary>
    public void Step(IReadOnlyList<double[]> theta, IReadOnlyList<double[]> grad)
    {
        T++;
        for (int k = 0; k < theta.Count; k++)
        {
            double[] p = theta[k], g = grad[k];
            if (WeightDecay != 0)
            {
                g = (double[])g.Clone();
                for (int i = 0; i < g.Length; i++) g[i] += WeightDecay * p[i];   // g = g + λθ
            }
            Update(k, p, g);
        }
    }

    public void Step(double[] theta, double[] grad) => Step([theta], [grad]);

    protected abstract void Update(int block, double[] p, double[] g);

    /// <summary>A per-block state array named <paramref name="name"/>, zero (or <paramref name="init"/>) at first use.</summary>
    protected double[] State(string name, int block, int length, double init = 0)
    {
        if (!state.TryGetValue((name, block), out var a))
        {
            a = new double[length];
            if (init != 0) Array.Fill(a, init);
            state[(name, block)] = a;
        }
        return a;
    }

    readonly Dictionary<(string, int), double[]> state = [];
}

/// <summary>θ ← θ − η g.</summary>
public sealed class RefGd(double lr, double weightDecay = 0) : ReferenceOptimizer(lr, weightDecay)
{
    protected override void Update(int k, double[] p, double[] g)
    {
        for (int i = 0; i < p.Length; i++) p[i] -= LearningRate * g[i];
    }
}

/// <summary>b₁ = g₁, b_t = μ b_{t−1} + (1 − τ) g_t; θ ← θ − η b_t (Nesterov: θ ← θ − η (g_t + μ b_t)).</summary>
public sealed class RefMomentum(double lr, double momentum, double dampening = 0, double weightDecay = 0, bool nesterov = false)
    : ReferenceOptimizer(lr, weightDecay)
{
    protected override void Update(int k, double[] p, double[] g)
    {
        double[] b = State("momentum_buffer", k, p.Length);
        for (int i = 0; i < p.Length; i++)
        {
            b[i] = T == 1 ? g[i] : momentum * b[i] + (1 - dampening) * g[i];
            double d = nesterov ? g[i] + momentum * b[i] : b[i];
            p[i] -= LearningRate * d;
        }
    }
}

/// <summary>G_t = G_{t−1} + g²; θ ← θ − η_t g / (√G_t + ε), η_t = η / (1 + (t − 1) lr_decay).</summary>
public sealed class RefAdaGrad(double lr = 0.01, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0,
    double eps = 1e-10)
    : ReferenceOptimizer(lr, weightDecay)
{
    protected override void Update(int k, double[] p, double[] g)
    {
        double[] G = State("sum", k, p.Length, initialAccumulatorValue);
        double eta = LearningRate / (1 + (T - 1) * lrDecay);
        for (int i = 0; i < p.Length; i++)
        {
            G[i] += g[i] * g[i];
            p[i] -= eta * g[i] / (Math.Sqrt(G[i]) + eps);
        }
    }
}

/// <summary>E[g²]_t = α E[g²]_{t−1} + (1 − α) g²; θ ← θ − η g / (√E[g²]_t + ε); optional momentum and centering.</summary>
public sealed class RefRmsProp(double lr = 0.01, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0,
    bool centered = false)
    : ReferenceOptimizer(lr, weightDecay)
{
    protected override void Update(int k, double[] p, double[] g)
    {
        double[] sq = State("square_avg", k, p.Length), avg = State("grad_avg", k, p.Length), b = State("momentum_buffer", k, p.Length);
        for (int i = 0; i < p.Length; i++)
        {
            sq[i] = alpha * sq[i] + (1 - alpha) * g[i] * g[i];
            double denom;
            if (centered)
            {
                avg[i] = alpha * avg[i] + (1 - alpha) * g[i];
                denom = Math.Sqrt(sq[i] - avg[i] * avg[i]) + eps;
            }
            else denom = Math.Sqrt(sq[i]) + eps;
            if (momentum > 0)
            {
                b[i] = momentum * b[i] + g[i] / denom;
                p[i] -= LearningRate * b[i];
            }
            else p[i] -= LearningRate * g[i] / denom;
        }
    }
}

/// <summary>m_t, v_t, m̂_t = m_t/(1 − β₁ᵗ), v̂_t = v_t/(1 − β₂ᵗ); θ ← θ − η m̂_t / (√v̂_t + ε).</summary>
public sealed class RefAdam(double lr = 0.001, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
    bool amsgrad = false)
    : ReferenceOptimizer(lr, weightDecay)
{
    protected override void Update(int k, double[] p, double[] g)
    {
        double[] m = State("exp_avg", k, p.Length), v = State("exp_avg_sq", k, p.Length), vMax = State("max_exp_avg_sq", k, p.Length);
        double bc1 = 1 - Math.Pow(beta1, T), bc2 = 1 - Math.Pow(beta2, T);
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            double vUsed = v[i];
            if (amsgrad) vUsed = vMax[i] = Math.Max(vMax[i], v[i]);
            double mHat = m[i] / bc1, vHat = vUsed / bc2;
            p[i] -= LearningRate * mHat / (Math.Sqrt(vHat) + eps);
        }
    }
}
