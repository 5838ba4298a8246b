using System.Text.Json;
using TorchLabs.Models;

namespace TorchLabs.Gradients;

/// <summary>One input of the dropout/concat network: x, one-hot y, the weights and the mask (float64).</summary>
public sealed record DropoutConcatCase(
    double[] X,
    double[] Y,
    double[][] W1,
    double[] B1,
    double[][] W2,
    double[] B2,
    double[] M
)
{
    public int D => X.Length;
    public int S => B1.Length;
    public int K => B2.Length;

    /// <summary>The values the check takes central differences over (x, W₁, b₁, W₂, b₂), within <see
    /// cref="Runtime.MemoryBudget.MaxCheckedParameters"/>.</summary>
    static void RequireCheckable(int d, int s, int k, string what) =>
        Runtime.MemoryBudget.RequireCheckable((double)d * s + s + ((double)s + d) * k + k + d, what);

    /// <summary>A seeded random case: x, W, b ~ N(0, 1)-ish, a random class, a Bernoulli mask with drop probability
    /// p.</summary>
    public static DropoutConcatCase Random(int d, int s, int k, long seed, double p = 0.25)
    {
        Require.WholeNumber(d, "d");
        Require.WholeNumber(s, "s");
        Require.WholeNumber(k, "k", 2);
        RequireCheckable(d, s, k, $"‹d› {d} ‹s› {s} ‹k› {k}");
        var rng = new System.Random(unchecked((int)seed));
        double N() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double[] V(int n) => Enumerable.Range(0, n).Select(_ => N()).ToArray();
        double[][] Mx(int r, int c) => Enumerable.Range(0, r).Select(_ => V(c)).ToArray();
        int cls = rng.Next(k);
        return new DropoutConcatCase(
            V(d),
            Enumerable.Range(0, k).Select(i => i == cls ? 1.0 : 0.0).ToArray(),
            Mx(d, s),
            V(s),
            Mx(s + d, k),
            V(k),
            Enumerable.Range(0, s + d).Select(_ => rng.NextDouble() < p ? 0.0 : 1.0).ToArray()
        );
    }

    /// <summary>
    /// Reads one JSON object with keys x (length d), y (one-hot, length k), W1 (d rows of s), b1 (s), W2 (s+d rows of
    /// k), b2 (k), m (s+d values of 0 or 1). Any other form: a <see cref="UsageException"/> naming the key and the
    /// shape expected.
    /// </summary>
    public static DropoutConcatCase Parse(string json, string source)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException e)
        {
            throw new UsageException(
                $"{source}: not valid JSON ({e.Message.Split('.')[0]}); expected one object with keys x, y, W1, b1, W2, b2, m"
            );
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new UsageException($"{source}: expected one JSON object with keys x, y, W1, b1, W2, b2, m");

        double[] Vector(string key, int? length, string what)
        {
            if (!root.TryGetProperty(key, out var e))
                throw new UsageException($"{source}: missing key \"{key}\"; expected {what}");
            if (e.ValueKind != JsonValueKind.Array || e.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
                throw new UsageException($"{source}: key \"{key}\": expected {what}");
            double[] v = e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            if (length is int n && v.Length != n)
                throw new UsageException($"{source}: key \"{key}\": expected {what}, got {v.Length} values");
            if (v.Length == 0)
                throw new UsageException($"{source}: key \"{key}\": expected {what}, got an empty list");
            if (v.Any(x => !double.IsFinite(x)))
                throw new UsageException($"{source}: key \"{key}\": expected finite numbers");
            return v;
        }
        double[][] Matrix(string key, int rows, int cols, string what)
        {
            if (!root.TryGetProperty(key, out var e))
                throw new UsageException($"{source}: missing key \"{key}\"; expected {what}");
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != rows)
                throw new UsageException(
                    $"{source}: key \"{key}\": expected {what}"
                        + (e.ValueKind == JsonValueKind.Array ? $", got {e.GetArrayLength()} rows" : "")
                );
            return e.EnumerateArray()
                .Select(
                    (row, i) =>
                    {
                        if (
                            row.ValueKind != JsonValueKind.Array
                            || row.GetArrayLength() != cols
                            || row.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number)
                        )
                            throw new UsageException(
                                $"{source}: key \"{key}\": row {i}: expected {cols} numbers ({what})"
                            );
                        var r = row.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                        if (r.Any(v => !double.IsFinite(v)))
                            throw new UsageException($"{source}: key \"{key}\": row {i}: expected finite numbers");
                        return r;
                    }
                )
                .ToArray();
        }

        double[] x = Vector("x", null, "a list of d numbers");
        double[] b1 = Vector("b1", null, "a list of s numbers");
        double[] b2 = Vector("b2", null, "a list of k numbers");
        int d = x.Length,
            s = b1.Length,
            k = b2.Length;
        RequireCheckable(d, s, k, $"{source}: d = {d}, s = {s}, k = {k}");
        double[] y = Vector("y", k, $"a one-hot list of k = {k} numbers (k = length of b2)");
        if (y.Count(v => v == 1) != 1 || y.Any(v => v != 0 && v != 1))
            throw new UsageException($"{source}: key \"y\": expected one-hot: k = {k} values, one 1 and the rest 0");
        double[][] w1 = Matrix("W1", d, s, $"d = {d} rows of s = {s} numbers (d = length of x, s = length of b1)");
        double[][] w2 = Matrix("W2", s + d, k, $"s + d = {s + d} rows of k = {k} numbers");
        double[] m = Vector("m", s + d, $"s + d = {s + d} values of 0 or 1");
        if (m.Any(v => v != 0 && v != 1))
            throw new UsageException($"{source}: key \"m\": expected s + d = {s + d} values of 0 or 1");
        return new DropoutConcatCase(x, y, w1, b1, w2, b2, m);
    }

    public static DropoutConcatCase Load(string path)
    {
        if (!File.Exists(path))
            throw new UsageException(
                $"‹case› {path}: no such file; expected a JSON object with keys x, y, W1, b1, W2, b2, m"
            );
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"‹case› {path}: cannot read: {e.Message}");
        }
        return Parse(text, path);
    }
}

/// <summary>Notes 003 eqs. 1-28 checked: hand derivation vs libtorch autograd vs central differences.</summary>
public static class DropoutConcatCheck
{
    static Tensor T(double[] v) => tensor(v, ScalarType.Float64);

    static Tensor T(double[][] m) =>
        tensor(m.SelectMany(r => r).ToArray(), [m.Length, m[0].Length], ScalarType.Float64);

    public static NetworkCheckResult Run(DropoutConcatCase c)
    {
        using var scope = NewDisposeScope();
        var x = T(c.X).requires_grad_(true);
        var y = T(c.Y);
        var W1 = T(c.W1).requires_grad_(true);
        var b1 = T(c.B1).requires_grad_(true);
        var W2 = T(c.W2).requires_grad_(true);
        var b2 = T(c.B2).requires_grad_(true);
        var m = T(c.M);

        // The loss from each intermediate onwards (the rest held fixed), for central differences.
        Tensor H1(Tensor w1, Tensor bb1, Tensor xx) => matmul(w1.t(), xx) + bb1;
        // L(ŷ) = −Σ_{k: y_k = 1} log ŷ_k: the terms with y_k = 0 are left out rather than multiplied by 0, so that a
        // central-difference step past a tiny ŷ_k does not turn 0 · log(negative) into NaN.
        Tensor FromYHat(Tensor yh) => -(y * where(y > 0, yh, ones_like(yh)).log()).sum();
        Tensor FromH3(Tensor h3) => FromYHat(nn.functional.softmax(h3, 0));
        Tensor FromA2(Tensor a2, Tensor w2, Tensor bb2) => FromH3(matmul(w2.t(), a2) + bb2);
        Tensor FromH2(Tensor h2) => FromA2(h2 * m, W2, b2);
        Tensor FromA1(Tensor a1, Tensor xx) => FromH2(cat([a1, xx], 0));
        Tensor FromH1(Tensor h1, Tensor xx) => FromA1(nn.functional.relu(h1), xx);

        var trace = DropoutConcatNet.Trace(x, m, W1, b1, W2, b2);
        var (a1, h2, a2, h3, yhat) = (trace.A1, trace.H2, trace.A2, trace.H3, trace.YHat);
        foreach (var t in new[] { trace.H1, a1, h2, a2, h3, yhat })
            t.retain_grad();
        var loss = DropoutConcatNet.Loss(yhat, y);
        loss.backward();

        var g = DropoutConcatGradients.Compute(trace.DetachAll(), W1.detach(), W2.detach(), y);
        bool kink = trace.H1.detach().abs().min().item<double>() < 2 * HandVsAutograd.Step;
        string? kinkNote = kink
            ? "a ReLU input lies within 2h of 0, where central differences straddle the kink"
            : null;
        var entries = new List<GradEntry>
        {
            HandVsAutograd.Entry("dL/dyhat", g.dYHat, yhat.grad!, yhat, FromYHat, relativeStep: true),
            HandVsAutograd.Entry("dL/dh3", g.dH3, h3.grad!, h3, FromH3),
            HandVsAutograd.Entry("dL/dW2", g.dW2, W2.grad!, W2, v => FromA2(a2.detach(), v, b2)),
            HandVsAutograd.Entry("dL/db2", g.db2, b2.grad!, b2, v => FromA2(a2.detach(), W2, v)),
            HandVsAutograd.Entry("dL/da2", g.dA2, a2.grad!, a2, v => FromA2(v, W2, b2)),
            HandVsAutograd.Entry("dL/dh2", g.dH2, h2.grad!, h2, FromH2),
            HandVsAutograd.Entry("dL/da1", g.dA1, a1.grad!, a1, v => FromA1(v, x.detach())),
            HandVsAutograd.Entry("dL/dh1", g.dH1, trace.H1.grad!, trace.H1, v => FromH1(v, x.detach()), kinkNote),
            HandVsAutograd.Entry(
                "dL/dW1",
                g.dW1,
                W1.grad!,
                W1,
                v => FromH1(H1(v, b1, x.detach()), x.detach()),
                kinkNote
            ),
            HandVsAutograd.Entry(
                "dL/db1",
                g.db1,
                b1.grad!,
                b1,
                v => FromH1(H1(W1, v, x.detach()), x.detach()),
                kinkNote
            ),
            HandVsAutograd.Entry("dL/dx", g.dX, x.grad!, x, v => FromH1(H1(W1, b1, v), v), kinkNote),
        };
        var notes = new List<string>
        {
            $"d = {c.D}, s = {c.S}, k = {c.K}, mask keeps {c.M.Count(v => v == 1)} of {c.M.Length}.",
        };
        if (kinkNote is not null)
            notes.Add(
                $"Central differences skipped for dL/dh1, dL/dW1, dL/db1, dL/dx: {kinkNote}; libtorch takes ReLU′(0) = 0, as the hand derivation does."
            );
        return new NetworkCheckResult("dropout-concat", loss.item<double>(), entries, notes);
    }

    static DropoutConcatTrace DetachAll(this DropoutConcatTrace t) =>
        new(
            t.X.detach(),
            t.H1.detach(),
            t.A1.detach(),
            t.H2.detach(),
            t.M,
            t.A2.detach(),
            t.H3.detach(),
            t.YHat.detach()
        );
}
