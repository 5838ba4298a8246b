namespace TorchLabs.Optimizers;

/// <summary>Which of Nesterov's two equivalent forms an optimizer uses.</summary>
public enum NesterovForm
{
    /// <summary>torch.optim.SGD(nesterov=True): b_t = μ b_{t−1} + g_t, θ ← θ − η (g_t + μ b_t); the parameter is the
    /// look-ahead point.</summary>
    Torch,

    /// <summary>
    /// The notes' (000/001 Q3) and Sutskever et al.'s form: v ← μ v − η ∇f(θ + μ v), θ ← θ + v. Call
    /// <see cref="Nesterov.BeforeGradient"/> before the forward pass, so the gradient is taken at θ + μ v.
    /// </summary>
    LookAhead,
}

/// <summary>
/// Nesterov momentum. Default: torch's form, b₁ = g₁, b_t = μ b_{t−1} + (1 − τ) g_t, d_t = g_t + μ b_t, θ ← θ − η d_t.
/// Option: the notes' look-ahead form (lr 1e-3, μ 0.1). The two are one method after a change of variables:
/// with v = −η b, torch's θ is the notes' look-ahead point θ_seed + μ v (the race shows it in numbers).
/// </summary>
public sealed class Nesterov : HandOptimizer
{
    public double Mu { get; }
    public double Dampening { get; }
    public NesterovForm Form { get; }

    /// <summary>torch.optim.SGD(params, lr, momentum, dampening=0, weight_decay=0, nesterov=True), and the notes'
    /// form; the parameters laid out as its signature line.</summary>
    // csharpier-ignore
    public Nesterov(IEnumerable<Tensor> parameters, double lr, double momentum, double dampening = 0,
        double weightDecay = 0, NesterovForm form = NesterovForm.Torch)
        : base(parameters, lr, weightDecay)
    {
        Ranges.Momentum.Require(momentum, nameof(momentum));
        if (momentum == 0)
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Nesterov needs momentum > 0");
        if (form == NesterovForm.Torch && dampening != 0)
            throw new ArgumentOutOfRangeException(
                nameof(dampening),
                dampening,
                "Nesterov momentum requires zero dampening (as torch)"
            );
        Mu = momentum;
        Dampening = dampening;
        Form = form;
    }

    /// <summary>Look-ahead form only: moves each parameter from θ to θ + μ v, where the next gradient is to be
    /// taken.</summary>
    public override void BeforeGradient()
    {
        if (Form != NesterovForm.LookAhead)
            return;
        using var _ = no_grad();
        for (int i = 0; i < Parameters.Count; i++)
            if (StateOf(i).TryGetValue("velocity", out var v))
                Parameters[i].Add_(v, Mu); // θ + μ v
    }

    protected override void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t)
    {
        if (Form == NesterovForm.Torch)
        {
            var b = s.TryGetValue("momentum_buffer", out var previous)
                ? previous.Mul_(Mu).Add_(g, 1 - Dampening) // b_t = μ b_{t−1} + g_t
                : Buffer(s, "momentum_buffer", () => g.clone()); // b₁ = g₁
            var d = g.Add(b, Mu); // d_t = g_t + μ b_t
            p.Add_(d, -LearningRate); // θ ← θ − η d_t
        }
        else
        {
            var v = Buffer(s, "velocity", () => zeros_like(p));
            p.Add_(v, -Mu); // back from θ + μ v to θ
            v.Mul_(Mu).Add_(g, -LearningRate); // v ← μ v − η ∇f(θ + μ v)
            p.Add_(v, 1); // θ ← θ + v
        }
    }
}
