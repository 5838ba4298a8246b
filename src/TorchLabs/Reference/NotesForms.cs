namespace TorchLabs.Reference;

/// <summary>
/// The optimizers exactly as notes 000/001 Q3's code writes them (on f's two coordinates), slips included, and their
/// corrected twins, for the report's errata. x is updated in place; each returns nothing.
/// </summary>
public static class NotesForms
{
    /// <summary>Notes Q3 AdaGrad as written: one scalar accumulator gt += Σ g², x −= lr·g/√(gt + 1e-9).</summary>
    public sealed class AdaGradAsWritten(double lr)
    {
        double gt;

        public void Step(double[] x, double[] g)
        {
            gt += g.Sum(v => v * v);
            for (int i = 0; i < x.Length; i++)
                x[i] -= lr * g[i] / Math.Sqrt(gt + 1e-9);
        }
    }

    /// <summary>Notes Q3 RMSProp as written: scalar gt = β gt + (1 − β) Σ g², and <c>x = lr*g/(√gt + 1e-9)</c>: an
    /// assignment, not a step.</summary>
    public sealed class RmsPropAsWritten(double lr, double beta = 0.9)
    {
        double gt;

        public void Step(double[] x, double[] g)
        {
            gt = beta * gt + (1 - beta) * g.Sum(v => v * v);
            for (int i = 0; i < x.Length; i++)
                x[i] = lr * g[i] / (Math.Sqrt(gt) + 1e-9);
        }
    }

    /// <summary>Notes Q3 RMSProp with the sign fixed (x −= ...) but still one scalar accumulator.</summary>
    public sealed class RmsPropScalar(double lr, double beta = 0.9)
    {
        double gt;

        public void Step(double[] x, double[] g)
        {
            gt = beta * gt + (1 - beta) * g.Sum(v => v * v);
            for (int i = 0; i < x.Length; i++)
                x[i] -= lr * g[i] / (Math.Sqrt(gt) + 1e-9);
        }
    }

    /// <summary>Notes Q3 Adam as written: r̂ = r / (1 − ρ₁ᵗ), the first moment's correction used for the
    /// second.</summary>
    public sealed class AdamAsWritten(double lr, double rho1 = 0.9, double rho2 = 0.999, double delta = 1e-8)
    {
        double[]? s,
            r;
        int t;

        public void Step(double[] x, double[] g)
        {
            s ??= new double[x.Length];
            r ??= new double[x.Length];
            t++;
            for (int i = 0; i < x.Length; i++)
            {
                s[i] = rho1 * s[i] + (1 - rho1) * g[i];
                r[i] = rho2 * r[i] + (1 - rho2) * g[i] * g[i];
                double sHat = s[i] / (1 - Math.Pow(rho1, t));
                double rHat = r[i] / (1 - Math.Pow(rho1, t)); // the slip: should be rho2
                x[i] -= lr * sHat / (Math.Sqrt(rHat) + delta);
            }
        }
    }

    /// <summary>
    /// Notes Q3 Nesterov, look-ahead form: v ← μ v − η ∇f(x + μ v), x ← x + v. <see cref="LookAheadPoint"/> is where
    /// the next gradient is taken; torch's form tracks exactly this point.
    /// </summary>
    public sealed class NesterovNotes(double lr, double mu) : INotesForm
    {
        public double[]? V { get; private set; }

        public double[] LookAheadPoint(double[] x) =>
            V is null ? (double[])x.Clone() : x.Select((xi, i) => xi + mu * V[i]).ToArray();

        public void Step(double[] x, Func<double[], double[]> gradient)
        {
            V ??= new double[x.Length];
            double[] g = gradient(LookAheadPoint(x));
            for (int i = 0; i < x.Length; i++)
            {
                V[i] = mu * V[i] - lr * g[i];
                x[i] += V[i];
            }
        }
    }
}

/// <summary>An update in the notes' own form, which takes the gradient where it wants it (Nesterov's look-ahead
/// point).</summary>
public interface INotesForm
{
    void Step(double[] x, Func<double[], double[]> gradient);
}
