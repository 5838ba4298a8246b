using System.Globalization;

namespace TorchLabs.Reference;

/// <summary>
/// The settings of one torch.optim optimizer under PyTorch's keyword names (<c>lr</c>, <c>betas</c>, <c>amsgrad</c>,
/// …), each a number, a pair of numbers or a bool, with PyTorch's defaults for the names not given.
/// </summary>
public sealed class OptimSettings
{
    readonly Dictionary<string, double[]> values;

    public OptimSettings(IReadOnlyDictionary<string, double[]> values) => this.values = new(values);

    /// <summary>The settings as given (for messages and JSON).</summary>
    public IReadOnlyDictionary<string, double[]> Given => values;

    public double Get(string key, double fallback) => values.TryGetValue(key, out var v) ? v[0] : fallback;

    public bool Flag(string key) => values.TryGetValue(key, out var v) && v[0] != 0;

    public (double, double) Pair(string key, double a, double b) =>
        values.TryGetValue(key, out var v) ? (v[0], v[1]) : (a, b);

    public override string ToString() =>
        string.Join(
            ", ",
            values.Select(kv =>
                kv.Key
                + "="
                + (
                    kv.Value.Length == 1
                        ? kv.Value[0].ToString("R", CultureInfo.InvariantCulture)
                        : "("
                            + string.Join(", ", kv.Value.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))
                            + ")"
                )
            )
        );
}

/// <summary>
/// One torch.optim optimizer written out by hand on a flat vector θ of all parameters (every one of these updates acts
/// element by element, so one vector stands for any number of parameter tensors). <see cref="Step(double[],
/// double[])"/> is one <c>optimizer.step()</c> given the gradient g = ∂f/∂θ. The equations are those of PyTorch's
/// documentation (torch.optim, "Algorithm" of each class), in the order of PyTorch's single-tensor implementation, so
/// the numbers agree to rounding.
/// </summary>
public abstract class TorchOptimReference
{
    /// <summary>The optimizers TorchSharp 0.107 re-implements in C# (LBFGS wraps libtorch's and is not among
    /// them).</summary>
    public static readonly string[] Names =
    [
        "SGD",
        "Adam",
        "AdamW",
        "Adamax",
        "NAdam",
        "RAdam",
        "RMSprop",
        "Rprop",
        "Adagrad",
        "Adadelta",
        "ASGD",
    ];

    /// <summary>The keywords each accepts, as PyTorch spells them.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Keywords = new Dictionary<string, string[]>
    {
        ["SGD"] = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"],
        ["Adam"] = ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
        ["AdamW"] = ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
        ["Adamax"] = ["lr", "betas", "eps", "weight_decay", "maximize"],
        ["NAdam"] = ["lr", "betas", "eps", "weight_decay", "momentum_decay"],
        ["RAdam"] = ["lr", "betas", "eps", "weight_decay"],
        ["RMSprop"] = ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
        ["Rprop"] = ["lr", "etas", "step_sizes", "maximize"],
        ["Adagrad"] = ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"],
        ["Adadelta"] = ["lr", "rho", "eps", "weight_decay", "maximize"],
        ["ASGD"] = ["lr", "lambd", "alpha", "t0", "weight_decay", "maximize"],
    };

    /// <summary>The reference for PyTorch's class <paramref name="name"/> (exact spelling, see <see
    /// cref="Names"/>).</summary>
    /// <param name="pyTorch113">Follow PyTorch 1.13 where it differs from the version TorchSharp 0.107 follows (NAdam
    /// only).</param>
    public static TorchOptimReference Create(string name, OptimSettings s, bool pyTorch113 = false) =>
        name switch
        {
            "SGD" => new SgdReference(s),
            "Adam" => new AdamReference(s, decoupled: false),
            "AdamW" => new AdamReference(s, decoupled: true),
            "Adamax" => new AdamaxReference(s),
            "NAdam" => new NAdamReference(s, pyTorch113),
            "RAdam" => new RAdamReference(s),
            "RMSprop" => new RmspropReference(s),
            "Rprop" => new RpropReference(s),
            "Adagrad" => new AdagradReference(s),
            "Adadelta" => new AdadeltaReference(s),
            "ASGD" => new AsgdReference(s),
            _ => throw new ArgumentException($"{name}: no such optimizer; expected one of {string.Join(", ", Names)}"),
        };

    /// <summary>One <c>optimizer.step()</c>: θ updated in place from the gradient <paramref name="g"/> (not
    /// changed).</summary>
    public abstract void Step(double[] θ, double[] g);

    /// <summary>One <c>optimizer.step()</c> over several parameter blocks (a network's W and b), updated in place: the
    /// blocks are one vector end to end, as every update here acts element by element.</summary>
    public void Step(IReadOnlyList<double[]> θ, IReadOnlyList<double[]> g)
    {
        double[] flat = [.. θ.SelectMany(b => b)],
            grad = [.. g.SelectMany(b => b)];
        Step(flat, grad);
        for (int k = 0, at = 0; k < θ.Count; at += θ[k].Length, k++)
            Array.Copy(flat, at, θ[k], 0, θ[k].Length);
    }

    /// <summary>t, the number of steps taken (PyTorch's <c>state['step']</c>).</summary>
    protected int t;

    static double[] Zeros(int n) => new double[n];

    /// <summary>g with maximize's sign and L2 weight decay λθ folded in, as the first lines of most
    /// algorithms.</summary>
    protected static double[] Gradient(double[] θ, double[] g, bool maximize, double λ)
    {
        var d = new double[g.Length];
        for (int i = 0; i < g.Length; i++)
            d[i] = (maximize ? -g[i] : g[i]) + (λ != 0 ? λ * θ[i] : 0);
        return d;
    }

    /// <summary>torch.optim.SGD: g ← g + λθ; b₁ = g, b_t = μ b_{t−1} + (1 − τ) g; g ← g + μ b_t (nesterov) or b_t; θ ←
    /// θ − γ g.</summary>
    sealed class SgdReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", double.NaN),
            μ = s.Get("momentum", 0),
            τ = s.Get("dampening", 0),
            λ = s.Get("weight_decay", 0);
        readonly bool nesterov = s.Flag("nesterov"),
            maximize = s.Flag("maximize");
        double[]? b;

        public override void Step(double[] θ, double[] g)
        {
            var d = Gradient(θ, g, maximize, λ);
            if (μ != 0)
            {
                if (b is null)
                    b = (double[])d.Clone();
                else
                    for (int i = 0; i < d.Length; i++)
                        b[i] = b[i] * μ + (1 - τ) * d[i];
                for (int i = 0; i < d.Length; i++)
                    d[i] = nesterov ? d[i] + μ * b[i] : b[i];
            }
            for (int i = 0; i < θ.Length; i++)
                θ[i] += -γ * d[i];
        }
    }

    /// <summary>
    /// torch.optim.Adam and AdamW (<paramref name="decoupled"/>: θ ← θ(1 − γλ) instead of g ← g + λθ):
    /// m_t = β₁m_{t−1} + (1 − β₁)g; v_t = β₂v_{t−1} + (1 − β₂)g²; v̂max = max(v̂max, v_t) (amsgrad);
    /// θ ← θ − (γ / (1 − β₁ᵗ)) m_t / (√v_t / √(1 − β₂ᵗ) + ε).
    /// </summary>
    sealed class AdamReference(OptimSettings s, bool decoupled) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1e-3),
            ε = s.Get("eps", 1e-8),
            λ = s.Get("weight_decay", decoupled ? 1e-2 : 0);
        readonly (double β1, double β2) β = s.Pair("betas", 0.9, 0.999);
        readonly bool amsgrad = s.Flag("amsgrad"),
            maximize = s.Flag("maximize");
        double[]? m,
            v,
            vmax;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            (m, v, vmax) = (m ?? Zeros(n), v ?? Zeros(n), vmax ?? Zeros(n));
            t++;
            if (decoupled)
                for (int i = 0; i < n; i++)
                    θ[i] *= 1 - γ * λ;
            var d = Gradient(θ, g, maximize, decoupled ? 0 : λ);
            double bc1 = 1 - Math.Pow(β.β1, t),
                bc2 = 1 - Math.Pow(β.β2, t),
                stepSize = γ / bc1,
                bc2Sqrt = Math.Sqrt(bc2);
            for (int i = 0; i < n; i++)
            {
                m[i] = m[i] * β.β1 + (1 - β.β1) * d[i];
                v[i] = v[i] * β.β2 + (1 - β.β2) * d[i] * d[i];
                vmax[i] = Math.Max(vmax[i], v[i]);
                double denom = Math.Sqrt(amsgrad ? vmax[i] : v[i]) / bc2Sqrt + ε;
                θ[i] += -stepSize * (m[i] / denom);
            }
        }
    }

    /// <summary>torch.optim.Adamax: m_t = β₁m_{t−1} + (1 − β₁)g; u_t = max(β₂u_{t−1}, |g| + ε);
    /// θ ← θ − (γ / (1 − β₁ᵗ)) m_t / u_t.</summary>
    sealed class AdamaxReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 2e-3),
            ε = s.Get("eps", 1e-8),
            λ = s.Get("weight_decay", 0);
        readonly (double β1, double β2) β = s.Pair("betas", 0.9, 0.999);
        readonly bool maximize = s.Flag("maximize");
        double[]? m,
            u;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            (m, u) = (m ?? Zeros(n), u ?? Zeros(n));
            t++;
            var d = Gradient(θ, g, maximize, λ);
            double clr = γ / (1 - Math.Pow(β.β1, t));
            for (int i = 0; i < n; i++)
            {
                m[i] = m[i] * β.β1 + (1 - β.β1) * d[i];
                u[i] = Math.Max(u[i] * β.β2, Math.Abs(d[i]) + ε);
                θ[i] += -clr * (m[i] / u[i]);
            }
        }
    }

    /// <summary>
    /// torch.optim.NAdam (Dozat 2016, with PyTorch's momentum schedule): μ_t = β₁(1 − ½·0.96^(tψ)), μ_{t+1} likewise;
    /// Πμ_t = Πμ_{t−1}·μ_t; m_t, v_t as Adam; θ ← θ − γ(1 − μ_t)/(1 − Πμ_t) · g/(√(v_t/(1 − β₂ᵗ)) + ε)
    /// − γμ_{t+1}/(1 − Πμ_t·μ_{t+1}) · m_t/(√(v_t/(1 − β₂ᵗ)) + ε). PyTorch 2.0 and later, and TorchSharp 0.107, use
    /// Πμ_t·μ_{t+1}; PyTorch 1.13 (Debian's, here) used Πμ_t·μ_t·μ_{t+1}, a slip fixed upstream (pytorch#96258):
    /// <paramref name="pyTorch113"/> reproduces it for the test against 1.13's numbers.
    /// </summary>
    sealed class NAdamReference(OptimSettings s, bool pyTorch113) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 2e-3),
            ε = s.Get("eps", 1e-8),
            λ = s.Get("weight_decay", 0),
            ψ = s.Get("momentum_decay", 4e-3);
        readonly (double β1, double β2) β = s.Pair("betas", 0.9, 0.999);
        double[]? m,
            v;
        double muProduct = 1;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            (m, v) = (m ?? Zeros(n), v ?? Zeros(n));
            t++;
            double bc2 = 1 - Math.Pow(β.β2, t);
            var d = Gradient(θ, g, false, λ);
            double μ = β.β1 * (1 - 0.5 * Math.Pow(0.96, t * ψ)),
                μNext = β.β1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * ψ));
            muProduct *= μ;
            double muProductNext = pyTorch113 ? muProduct * μ * μNext : muProduct * μNext;
            for (int i = 0; i < n; i++)
            {
                m[i] = m[i] * β.β1 + (1 - β.β1) * d[i];
                v[i] = v[i] * β.β2 + (1 - β.β2) * d[i] * d[i];
                double denom = Math.Sqrt(v[i] / bc2) + ε;
                θ[i] += -γ * (1 - μ) / (1 - muProduct) * (d[i] / denom);
                θ[i] += -γ * μNext / (1 - muProductNext) * (m[i] / denom);
            }
        }
    }

    /// <summary>
    /// torch.optim.RAdam (Liu et al. 2020): m_t, v_t as Adam; m̂_t = m_t/(1 − β₁ᵗ); ρ∞ = 2/(1 − β₂) − 1,
    /// ρ_t = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ); when ρ_t &gt; 5: r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)),
    /// θ ← θ − γ m̂_t r_t √(1 − β₂ᵗ)/(√v_t + ε); else θ ← θ − γ m̂_t.
    /// </summary>
    sealed class RAdamReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1e-3),
            ε = s.Get("eps", 1e-8),
            λ = s.Get("weight_decay", 0);
        readonly (double β1, double β2) β = s.Pair("betas", 0.9, 0.999);
        double[]? m,
            v;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            (m, v) = (m ?? Zeros(n), v ?? Zeros(n));
            t++;
            double bc1 = 1 - Math.Pow(β.β1, t),
                bc2 = 1 - Math.Pow(β.β2, t);
            var d = Gradient(θ, g, false, λ);
            double ρInf = 2 / (1 - β.β2) - 1,
                ρt = ρInf - 2 * t * Math.Pow(β.β2, t) / bc2;
            double r = ρt > 5 ? Math.Sqrt((ρt - 4) * (ρt - 2) * ρInf / ((ρInf - 4) * (ρInf - 2) * ρt)) : 0;
            for (int i = 0; i < n; i++)
            {
                m[i] = m[i] * β.β1 + (1 - β.β1) * d[i];
                v[i] = v[i] * β.β2 + (1 - β.β2) * d[i] * d[i];
                double mHat = m[i] / bc1;
                θ[i] += ρt > 5 ? -(mHat * γ * (Math.Sqrt(bc2) / (Math.Sqrt(v[i]) + ε)) * r) : -(mHat * γ);
            }
        }
    }

    /// <summary>
    /// torch.optim.RMSprop (Hinton; Graves 2013 for centered): v_t = αv_{t−1} + (1 − α)g²; centered: ḡ_t = αḡ_{t−1} +
    /// (1 − α)g, ṽ = v_t − ḡ_t²; b_t = μb_{t−1} + g/(√ṽ + ε), θ ← θ − γb_t (momentum), else θ ← θ − γg/(√ṽ + ε).
    /// </summary>
    sealed class RmspropReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1e-2),
            α = s.Get("alpha", 0.99),
            ε = s.Get("eps", 1e-8),
            λ = s.Get("weight_decay", 0),
            μ = s.Get("momentum", 0);
        readonly bool centered = s.Flag("centered"),
            maximize = s.Flag("maximize");
        double[]? v,
            gAvg,
            b;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            (v, gAvg, b) = (v ?? Zeros(n), gAvg ?? Zeros(n), b ?? Zeros(n));
            var d = Gradient(θ, g, maximize, λ);
            for (int i = 0; i < n; i++)
            {
                v[i] = v[i] * α + (1 - α) * d[i] * d[i];
                if (centered)
                    gAvg[i] = gAvg[i] * α + (1 - α) * d[i];
                double avg = (centered ? Math.Sqrt(v[i] + -1 * gAvg[i] * gAvg[i]) : Math.Sqrt(v[i])) + ε;
                if (μ > 0)
                {
                    b[i] = b[i] * μ + d[i] / avg;
                    θ[i] += -γ * b[i];
                }
                else
                    θ[i] += -γ * (d[i] / avg);
            }
        }
    }

    /// <summary>
    /// torch.optim.Rprop (Riedmiller and Braun 1993, without weight backtracking): the step size η_i grows by η₊ where
    /// g_t·g_{t−1} &gt; 0, shrinks by η₋ where &lt; 0 (and that g counts as 0), clamped to [Γmin, Γmax]; θ ← θ − η
    /// sign(g).
    /// </summary>
    sealed class RpropReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1e-2);
        readonly (double minus, double plus) η = s.Pair("etas", 0.5, 1.2);
        readonly (double min, double max) Γ = s.Pair("step_sizes", 1e-6, 50);
        readonly bool maximize = s.Flag("maximize");
        double[]? prev,
            size;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            prev ??= Zeros(n);
            size ??= Enumerable.Repeat(γ, n).ToArray();
            for (int i = 0; i < n; i++)
            {
                double gi = maximize ? -g[i] : g[i];
                double sign = Math.Sign(gi * prev[i]);
                double factor =
                    sign > 0 ? η.plus
                    : sign < 0 ? η.minus
                    : 1;
                // torch.clamp: with min > max, every value is max
                size[i] = Math.Min(Math.Max(size[i] * factor, Γ.min), Γ.max);
                if (sign < 0)
                    gi = 0;
                θ[i] += -(Math.Sign(gi) * size[i]);
                prev[i] = gi;
            }
        }
    }

    /// <summary>torch.optim.Adagrad (Duchi et al. 2011): γ̃ = γ/(1 + (t − 1)η); G_t = G_{t−1} + g²; θ ← θ − γ̃ g/(√G_t
    /// + ε).</summary>
    sealed class AdagradReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1e-2),
            η = s.Get("lr_decay", 0),
            λ = s.Get("weight_decay", 0),
            ε = s.Get("eps", 1e-10),
            G0 = s.Get("initial_accumulator_value", 0);
        readonly bool maximize = s.Flag("maximize");
        double[]? G;

        public override void Step(double[] θ, double[] g)
        {
            G ??= Enumerable.Repeat(G0, θ.Length).ToArray();
            t++;
            var d = Gradient(θ, g, maximize, λ);
            double clr = γ / (1 + (t - 1) * η);
            for (int i = 0; i < θ.Length; i++)
            {
                G[i] += d[i] * d[i];
                θ[i] += -clr * (d[i] / (Math.Sqrt(G[i]) + ε));
            }
        }
    }

    /// <summary>torch.optim.Adadelta (Zeiler 2012): v_t = ρv_{t−1} + (1 − ρ)g²; Δ = √(u_{t−1} + ε)/√(v_t + ε)·g;
    /// u_t = ρu_{t−1} + (1 − ρ)Δ²; θ ← θ − γΔ.</summary>
    sealed class AdadeltaReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1.0),
            ρ = s.Get("rho", 0.9),
            ε = s.Get("eps", 1e-6),
            λ = s.Get("weight_decay", 0);
        readonly bool maximize = s.Flag("maximize");
        double[]? v,
            u;

        public override void Step(double[] θ, double[] g)
        {
            int n = θ.Length;
            (v, u) = (v ?? Zeros(n), u ?? Zeros(n));
            var d = Gradient(θ, g, maximize, λ);
            for (int i = 0; i < n; i++)
            {
                v[i] = v[i] * ρ + (1 - ρ) * d[i] * d[i];
                double Δ = Math.Sqrt(u[i] + ε) / Math.Sqrt(v[i] + ε) * d[i];
                u[i] = u[i] * ρ + (1 - ρ) * Δ * Δ;
                θ[i] += -γ * Δ;
            }
        }
    }

    /// <summary>
    /// torch.optim.ASGD (Polyak and Juditsky 1992): θ ← θ(1 − λη_t) − η_t g; the average a_t = a_{t−1} + μ_t(θ −
    /// a_{t−1}) (a copy of θ while μ_t = 1); then η_{t+1} = γ/(1 + λγt)^α and μ_{t+1} = 1/max(1, t − t₀). The averaged
    /// parameters are state, not the parameters: the trajectory is θ's.
    /// </summary>
    sealed class AsgdReference(OptimSettings s) : TorchOptimReference
    {
        readonly double γ = s.Get("lr", 1e-2),
            λ = s.Get("lambd", 1e-4),
            α = s.Get("alpha", 0.75),
            t0 = s.Get("t0", 1e6),
            wd = s.Get("weight_decay", 0);
        readonly bool maximize = s.Flag("maximize");
        double[]? a;
        double η = double.NaN,
            μ = 1;

        public override void Step(double[] θ, double[] g)
        {
            a ??= Zeros(θ.Length);
            if (double.IsNaN(η))
                η = γ;
            t++;
            var d = Gradient(θ, g, maximize, wd);
            for (int i = 0; i < θ.Length; i++)
            {
                θ[i] *= 1 - λ * η;
                θ[i] += -η * d[i];
                a[i] = μ != 1 ? a[i] + (θ[i] - a[i]) * μ : θ[i];
            }
            η = γ / Math.Pow(1 + λ * γ * t, α);
            μ = 1 / Math.Max(1, t - t0);
        }
    }
}
