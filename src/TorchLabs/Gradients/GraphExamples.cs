namespace TorchLabs.Gradients;

/// <summary>One node of a computational graph: its forward value and ∂f/∂node by hand and by autograd.</summary>
public sealed record GraphNode(
    string Name,
    string Definition,
    double Forward,
    double HandBackward,
    double AutogradBackward
);

/// <summary>
/// Notes 002's computational-graph examples, every node's forward and backward value:
/// f = x²y + y + 2 (at x = 3, y = 4, the classic example) and s = σ(w x + b) at x = 1, w = 0, b = 0, where ∂s/∂w =
/// 0.25.
/// </summary>
public static class GraphExamples
{
    /// <summary>f = x²y + y + 2 as nodes n₁ = x·x, n₂ = n₁·y, n₃ = n₂ + y, f = n₃ + 2; backward by the chain rule, node
    /// by node.</summary>
    public static IReadOnlyList<GraphNode> Polynomial(double x0 = 3, double y0 = 4)
    {
        double n1 = x0 * x0,
            n2 = n1 * y0,
            n3 = n2 + y0,
            f = n3 + 2;
        double df = 1,
            dn3 = df * 1,
            dn2 = dn3 * 1,
            dn1 = dn2 * y0; // ∂f/∂n₃ = 1, ∂f/∂n₂ = 1, ∂f/∂n₁ = y
        double dy = dn2 * n1 + dn3 * 1; // y feeds n₂ and n₃: ∂f/∂y = n₁ + 1 = x² + 1
        double dx = dn1 * 2 * x0; // ∂f/∂x = 2x · y
        using var scope = NewDisposeScope();
        var x = tensor(x0, ScalarType.Float64).requires_grad_(true);
        var y = tensor(y0, ScalarType.Float64).requires_grad_(true);
        var tn1 = x * x;
        var tn2 = tn1 * y;
        var tn3 = tn2 + y;
        var tf = tn3 + 2;
        foreach (var t in new[] { tn1, tn2, tn3, tf })
            t.retain_grad();
        tf.backward();
        double G(Tensor t) => t.grad!.item<double>();
        return
        [
            new("x", "input", x0, dx, G(x)),
            new("y", "input", y0, dy, G(y)),
            new("n1", "x · x", n1, dn1, G(tn1)),
            new("n2", "n1 · y", n2, dn2, G(tn2)),
            new("n3", "n2 + y", n3, dn3, G(tn3)),
            new("f", "n3 + 2", f, df, G(tf)),
        ];
    }

    /// <summary>s = σ(wx + b) as nodes u = w·x, z = u + b, s = σ(z); ∂s/∂z = σ(z)(1 − σ(z)) = 0.25 at z = 0.</summary>
    public static IReadOnlyList<GraphNode> Neuron(double x0 = 1, double w0 = 0, double b0 = 0)
    {
        double u = w0 * x0,
            z = u + b0,
            s = 1 / (1 + Math.Exp(-z));
        double ds = 1,
            dz = ds * s * (1 - s),
            du = dz,
            db = dz,
            dw = du * x0,
            dx = du * w0;
        using var scope = NewDisposeScope();
        var x = tensor(x0, ScalarType.Float64).requires_grad_(true);
        var w = tensor(w0, ScalarType.Float64).requires_grad_(true);
        var b = tensor(b0, ScalarType.Float64).requires_grad_(true);
        var tu = w * x;
        var tz = tu + b;
        var ts = tz.sigmoid();
        foreach (var t in new[] { tu, tz, ts })
            t.retain_grad();
        ts.backward();
        double G(Tensor t) => t.grad!.item<double>();
        return
        [
            new("x", "input", x0, dx, G(x)),
            new("w", "input", w0, dw, G(w)),
            new("b", "input", b0, db, G(b)),
            new("u", "w · x", u, du, G(tu)),
            new("z", "u + b", z, dz, G(tz)),
            new("s", "σ(z)", s, ds, G(ts)),
        ];
    }

    public static NetworkCheckResult AsResult(string name, IReadOnlyList<GraphNode> nodes, Func<double[], double> f)
    {
        // Central differences on the inputs (the nodes with no definition).
        var inputs = nodes.Where(n => n.Definition == "input").ToList();
        double[] at = inputs.Select(n => n.Forward).ToArray();
        var entries = nodes
            .Select(n =>
            {
                double[]? numeric = null;
                int i = inputs.IndexOf(n);
                if (i >= 0)
                {
                    double h = HandVsAutograd.Step;
                    var plus = (double[])at.Clone();
                    plus[i] += h;
                    var minus = (double[])at.Clone();
                    minus[i] -= h;
                    numeric = [(f(plus) - f(minus)) / (2 * h)];
                }
                return new GradEntry(
                    $"d{nodes[^1].Name}/d{n.Name}",
                    [],
                    [n.HandBackward],
                    [n.AutogradBackward],
                    numeric,
                    numeric is null ? "inner node: forward value " + n.Forward.ToString("G6") : null
                );
            })
            .ToList();
        return new NetworkCheckResult(
            name,
            nodes[^1].Forward,
            entries,
            [
                string.Join(
                    ", ",
                    nodes.Select(n =>
                        $"{n.Name} = {(n.Definition == "input" ? "" : n.Definition + " = ")}{n.Forward:G6}"
                    )
                ),
            ]
        );
    }
}
