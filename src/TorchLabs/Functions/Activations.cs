namespace TorchLabs.Functions;

/// <summary>An activation function, its derivative by hand, and libtorch's version for autograd.</summary>
/// <param name="Kink">The point where the function is not differentiable, if any; libtorch takes <paramref
/// name="KinkValue"/> there.</param>
/// <param name="TorchDerivative">The hand derivative on tensors, built from differentiable ops (so that a hand backward
/// that uses it has a second derivative).</param>
public sealed record Activation(
    string Name,
    Func<double, double> F,
    Func<double, double> Derivative,
    Func<Tensor, Tensor> Torch,
    Func<Tensor, Tensor> TorchDerivative,
    double? Kink = null,
    double? KinkValue = null
);

/// <summary>Notes 002's activations and their derivatives (the kinks take libtorch's one-sided values).</summary>
public static class Activations
{
    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    static double Phi(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    static double SmallPhi(double x) => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);

    public const double LeakySlope = 0.01;
    public const double EluAlpha = 1.0;

    public static readonly Activation[] All =
    [
        // σ′ = σ(1 − σ)
        new(
            "sigmoid",
            Sigmoid,
            x => Sigmoid(x) * (1 - Sigmoid(x)),
            t => t.sigmoid(),
            t => t.sigmoid() * (1 - t.sigmoid())
        ),
        // tanh′ = 1 − tanh²
        new("tanh", Math.Tanh, x => 1 - Math.Tanh(x) * Math.Tanh(x), t => t.tanh(), t => 1 - t.tanh().square()),
        // ReLU′ = 1[x > 0]
        new(
            "relu",
            x => Math.Max(0, x),
            x => x > 0 ? 1 : 0,
            t => nn.functional.relu(t),
            t => (t > 0).to_type(t.dtype),
            0,
            0
        ),
        new(
            "leaky_relu",
            x => x > 0 ? x : LeakySlope * x,
            x => x > 0 ? 1 : LeakySlope,
            // 1 or 0.01
            t => nn.functional.leaky_relu(t, LeakySlope),
            t => where(t > 0, ones_like(t), full_like(t, LeakySlope)),
            0,
            LeakySlope
        ),
        new(
            "elu",
            x => x > 0 ? x : EluAlpha * (Math.Exp(x) - 1),
            x => x > 0 ? 1 : EluAlpha * Math.Exp(x),
            t => nn.functional.elu(t, EluAlpha),
            t => where(t > 0, ones_like(t), EluAlpha * t.exp()),
            0,
            EluAlpha
        ), // 1 or αeˣ
        // softplus′ = σ
        new("softplus", x => Math.Log(1 + Math.Exp(x)), Sigmoid, t => nn.functional.softplus(t), t => t.sigmoid()),
        new(
            "swish",
            x => x * Sigmoid(x),
            x => Sigmoid(x) * (1 + x * (1 - Sigmoid(x))),
            t => nn.functional.silu(t),
            // (xσ)′ = σ(1 + x(1 − σ))
            t => t.sigmoid() * (1 + t * (1 - t.sigmoid()))
        ),
        new(
            "gelu",
            x => x * Phi(x),
            x => Phi(x) + x * SmallPhi(x),
            t => nn.functional.gelu(t),
            // (xΦ)′ = Φ + xφ (exact erf form)
            t => 0.5 * (1 + (t / Math.Sqrt(2)).erf()) + t * (-0.5 * t.square()).exp() / Math.Sqrt(2 * Math.PI)
        ),
    ];

    /// <summary>No activation, a(z) = z (the output layer of an MLP); found by name but not among <see cref="All"/>'s
    /// checked functions.</summary>
    public static readonly Activation Identity = new("identity", x => x, _ => 1, t => t, t => ones_like(t));

    /// <summary>The activation called <paramref name="name"/> (or <see cref="Identity"/>); an unknown name is an error
    /// that lists the known ones.</summary>
    public static Activation Find(string name) =>
        name == Identity.Name
            ? Identity
            : All.FirstOrDefault(a => a.Name == name)
                ?? throw new Runtime.UsageException(
                    $"{name}: unknown activation; expected one of {string.Join(", ", All.Select(a => a.Name))} "
                        + $"or identity"
                );

    /// <summary>The grid: −4 to 4 in steps of 0.1, which contains the kink 0 exactly.</summary>
    public static double[] Grid() => Enumerable.Range(-40, 81).Select(i => i / 10.0).ToArray();

    /// <summary>The error function, by its series (|x| &lt; 2) or continued fraction: accurate to about 1e-15 (no
    /// Math.Erf in .NET).</summary>
    public static double Erf(double x)
    {
        if (x < 0)
            return -Erf(-x);
        if (x < 2)
        {
            // erf x = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1))
            double sum = 0,
                term = x;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                    break;
                term *= -x * x / (n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz's continued fraction)
        double f = x,
            c = x,
            d = 0,
            tiny = 1e-300;
        for (int n = 1; n < 300; n++)
        {
            double an = n / 2.0;
            d = x + an * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            d = 1 / d;
            c = x + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
                break;
        }
        return 1 - Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}
