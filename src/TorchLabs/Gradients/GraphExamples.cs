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
        double[] autograd = Autograd([x0, y0], v =>
        {
            var tn1 = v[0] * v[0];
            var tn2 = tn1 * v[1];
            var tn3 = tn2 + v[1];
            return [tn1, tn2, tn3, tn3 + 2];
        });
        return Nodes(
            [("x", "input"), ("y", "input"), ("n1", "x · x"), ("n2", "n1 · y"), ("n3", "n2 + y"), ("f", "n3 + 2")],
            [x0, y0, n1, n2, n3, f],
            [dx, dy, dn1, dn2, dn3, df],
            autograd
        );
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
        double[] autograd = Autograd([x0, w0, b0], v =>
        {
            var tu = v[1] * v[0];
            var tz = tu + v[2];
            return [tu, tz, tz.sigmoid()];
        });
        return Nodes(
            [("x", "input"), ("w", "input"), ("b", "input"), ("u", "w · x"), ("z", "u + b"), ("s", "σ(z)")],
            [x0, w0, b0, u, z, s],
            [dx, dw, db, du, dz, ds],
            autograd
        );
    }

    /// <summary>∂f/∂node by autograd for each leaf, at <paramref name="leaves"/>, then each node <paramref
    /// name="graph"/> builds from the leaves, in its order; its last node is f.</summary>
    static double[] Autograd(double[] leaves, Func<Tensor[], Tensor[]> graph)
    {
        using var scope = NewDisposeScope();
        var x = leaves.Select(v => tensor(v, ScalarType.Float64).requires_grad_(true)).ToArray();
        var nodes = graph(x);
        foreach (var t in nodes)
            t.retain_grad();
        nodes[^1].backward();
        return [.. x.Concat(nodes).Select(t => t.grad!.item<double>())];
    }

    /// <summary>The graph's rows: name and definition, forward value, ∂f/∂node by hand and by autograd.</summary>
    static IReadOnlyList<GraphNode> Nodes(
        (string Name, string Definition)[] nodes,
        double[] forward,
        double[] hand,
        double[] autograd
    ) => [.. nodes.Select((n, i) => new GraphNode(n.Name, n.Definition, forward[i], hand[i], autograd[i]))];

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
