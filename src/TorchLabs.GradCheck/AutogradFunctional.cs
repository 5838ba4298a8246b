// The functions of hessian, hvp and vhp: inputs → a tensor of one element.
using Objective = System.Func<TorchSharp.torch.Tensor[], TorchSharp.torch.Tensor>;

namespace TorchLabs.Gradients;

/// <summary>
/// <c>torch.autograd.functional</c> for TorchSharp:
/// <see cref="Jacobian(Func{Tensor[], Tensor[]}, Tensor[], bool, bool)"/>, <see cref="Hessian(Func{Tensor[], Tensor},
/// Tensor[], bool)"/>, <see cref="Vjp(Func{Tensor[], Tensor[]}, Tensor[], Tensor[], bool, bool)"/> and <see
/// cref="Jvp(Func{Tensor[], Tensor[]}, Tensor[], Tensor[], bool, bool)"/>, with PyTorch's semantics (its <c>strict</c>
/// too): the function is evaluated at detached copies of the inputs that require grad, results are detached unless
/// createGraph, and an output that does not depend on an input gives zeros. Reverse mode only: the Jacobian is built
/// row by row (one backward per output element), and the Jacobian-vector product uses the double-backward trick: g(u) =
/// Jᵀu is linear in a dummy u, so ∇ᵤ(g(u)ᵀv) = Jv.
/// </summary>
public static class AutogradFunctional
{
    /// <summary>Fresh leaves at the inputs' values (views that keep the graph when <paramref name="createGraph"/> and
    /// the input requires grad).</summary>
    static Tensor[] Prepare(Tensor[] inputs, bool createGraph) =>
        inputs.Select(x => createGraph && x.requires_grad ? x.view_as(x) : x.detach().requires_grad_(true)).ToArray();

    static Tensor Finish(Tensor t, bool createGraph) => createGraph ? t : t.detach();

    /// <summary>f at fresh leaves of the inputs (<see cref="Prepare"/>), evaluated with grad enabled; with strict,
    /// every output must require grad.</summary>
    static (Tensor[] Xs, Tensor[] Ys) Evaluate(
        Func<Tensor[], Tensor[]> f,
        Tensor[] inputs,
        bool createGraph,
        bool strict
    )
    {
        var xs = Prepare(inputs, createGraph);
        Tensor[] ys;
        using (enable_grad())
            ys = f(xs);
        if (strict)
            RequireGrad(ys);
        return (xs, ys);
    }

    /// <summary>The v = 1 that vjp and jvp take when v is omitted: allowed only when each of <paramref
    /// name="like"/> (the outputs or the inputs) has a single element.</summary>
    static Tensor[] Ones(Tensor[] like, string what) =>
        [
            .. like.Select(t =>
                t.numel() == 1
                    ? ones_like(t)
                    : throw new ArgumentException($"v may be omitted only when every {what} has a single element", "v")
            ),
        ];

    /// <summary>
    /// J[i, j] = ∂ outputᵢ / ∂ inputⱼ with shape outputᵢ.shape ++ inputⱼ.shape (torch.autograd.functional.jacobian,
    /// strategy "reverse-mode").
    /// </summary>
    /// <param name="strict">PyTorch's <c>strict</c>: an output that does not require grad, or that does not depend on
    /// an input, is an error (<see cref="ArgumentException"/>, PyTorch's words) instead of a block of zeros.</param>
    public static Tensor[,] Jacobian(
        Func<Tensor[], Tensor[]> f,
        Tensor[] inputs,
        bool createGraph = false,
        bool strict = false
    )
    {
        var (xs, ys) = Evaluate(f, inputs, createGraph, strict);
        var J = new Tensor[ys.Length, xs.Length];
        for (int i = 0; i < ys.Length; i++)
        {
            var y = ys[i];
            long rows = y.numel();
            var perInput = xs.Select(_ => new List<Tensor>()).ToArray();
            for (long r = 0; r < rows; r++)
            {
                if (!y.requires_grad)
                {
                    for (int j = 0; j < xs.Length; j++)
                        perInput[j].Add(zeros_like(xs[j]));
                    continue;
                }
                var e = zeros(y.numel(), y.dtype, y.device);
                e[r] = 1.0;
                var grads = SafeGrad.Checked(
                    [y],
                    xs,
                    [e.view(y.shape)],
                    retain_graph: true,
                    create_graph: createGraph,
                    allow_unused: true
                );
                for (int j = 0; j < xs.Length; j++)
                {
                    if (strict && grads[j].IsInvalid)
                        throw new ArgumentException(
                            $"Output {i} of the user-provided function is independent of input {j}. This is not allowed in strict mode."
                        );
                    perInput[j].Add(grads[j].IsInvalid ? zeros_like(xs[j]) : grads[j]);
                }
            }
            for (int j = 0; j < xs.Length; j++)
            {
                long[] shape = [.. y.shape, .. xs[j].shape];
                J[i, j] = Finish(
                    rows == 0 ? zeros(shape, xs[j].dtype, xs[j].device) : stack(perInput[j]).reshape(shape),
                    createGraph
                );
            }
        }
        return J;
    }

    /// <summary>∂f/∂x for one input and one output: shape f(x).shape ++ x.shape.</summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor input, bool createGraph = false) =>
        Jacobian(xs => [f(xs[0])], [input], createGraph)[0, 0];

    /// <summary>
    /// H[i, j] = ∂²f / ∂inputᵢ ∂inputⱼ of a scalar function, shape inputᵢ.shape ++ inputⱼ.shape
    /// (torch.autograd.functional.hessian): the Jacobian of the gradient, the gradient taken with create_graph.
    /// </summary>
    public static Tensor[,] Hessian(Objective f, Tensor[] inputs, bool createGraph = false)
    {
        Tensor[] Gradient(Tensor[] xs)
        {
            var (_, g, _) = GradientWithGraph(f, xs, "Hessian");
            return xs.Select((x, j) => g.Count == 0 || g[j].IsInvalid ? zeros_like(x) : g[j]).ToArray();
        }
        return Jacobian(Gradient, inputs, createGraph);
    }

    /// <summary>The Hessian of a scalar function of one tensor: shape x.shape ++ x.shape.</summary>
    public static Tensor Hessian(Func<Tensor, Tensor> f, Tensor input, bool createGraph = false) =>
        Hessian(xs => f(xs[0]), [input], createGraph)[0, 0];

    /// <summary>
    /// The vector-Jacobian product vᵀJ (torch.autograd.functional.vjp): returns the outputs and, per input, Σᵢ vᵢᵀ
    /// ∂outputᵢ/∂input. <paramref name="v"/> may be null only when every output has one element (then v = 1).
    /// </summary>
    /// <param name="strict">PyTorch's <c>strict</c>: an output that does not require grad, or an input it does not
    /// depend on, is an error instead of zeros.</param>
    // csharpier-ignore - laid out as PyTorch's vjp(func, inputs, v=None, create_graph=False, strict=False)
    public static (Tensor[] Outputs, Tensor[] Vjp) Vjp(Func<Tensor[], Tensor[]> f, Tensor[] inputs,
        Tensor[]? v = null, bool createGraph = false, bool strict = false)
    {
        var (xs, ys) = Evaluate(f, inputs, createGraph, strict);
        v ??= Ones(ys, "output");
        CheckShapes(ys, v, "v", "outputs");
        var used = Enumerable.Range(0, ys.Length).Where(i => ys[i].requires_grad).ToArray();
        var vjp = xs.Select(x => zeros_like(x)).ToArray();
        if (used.Length > 0)
        {
            var g = VectorJacobian(used.Select(i => ys[i]), xs, used.Select(i => v[i]), createGraph);
            for (int j = 0; j < xs.Length; j++)
            {
                if (!g[j].IsInvalid)
                    vjp[j] = g[j];
                else if (strict)
                    throw Independent(j); // _fill_in_zeros, stage "back"
            }
        }
        return (ys.Select(y => Finish(y, createGraph)).ToArray(), vjp.Select(t => Finish(t, createGraph)).ToArray());
    }

    /// <summary>vᵀ ∂f/∂x for one input and one output.</summary>
    public static (Tensor Output, Tensor Vjp) Vjp(Func<Tensor, Tensor> f, Tensor input, Tensor? v = null)
    {
        var (y, g) = Vjp(xs => [f(xs[0])], [input], v is null ? null : [v]);
        return (y[0], g[0]);
    }

    /// <summary>
    /// The Jacobian-vector product J v (torch.autograd.functional.jvp): returns the outputs and, per output, Σⱼ
    /// ∂output/∂inputⱼ vⱼ. By the double-backward trick: g(u) = Jᵀu is linear in a dummy u, so ∂(g(u)ᵀv)/∂u = J v.
    /// </summary>
    /// <param name="strict">PyTorch's <c>strict</c>: an output that does not require grad, an input no output depends
    /// on, or an output whose gradient does not depend on the dummy of the double-backward trick is an error instead of
    /// zeros.</param>
    // csharpier-ignore - laid out as PyTorch's jvp(func, inputs, v=None, create_graph=False, strict=False)
    public static (Tensor[] Outputs, Tensor[] Jvp) Jvp(Func<Tensor[], Tensor[]> f, Tensor[] inputs,
        Tensor[]? v = null, bool createGraph = false, bool strict = false)
    {
        v ??= Ones(inputs, "input");
        CheckShapes(inputs, v, "v", "inputs");
        var (xs, ys) = Evaluate(f, inputs, createGraph, strict);
        var jvp = ys.Select(y => zeros_like(y)).ToArray();
        var used = Enumerable.Range(0, ys.Length).Where(i => ys[i].requires_grad).ToArray();
        using (enable_grad())
        {
            var Jv = used.Length == 0 ? [] : DoubleBackward([.. used.Select(i => ys[i])], xs, v, createGraph, strict);
            for (int k = 0; k < Jv.Count; k++)
            {
                if (!Jv[k].IsInvalid)
                    jvp[used[k]] = Jv[k];
                else if (strict) // _fill_in_zeros, stage "back_trick"
                    throw new ArgumentException(
                        $"The gradient with respect to the input is independent of entry {used[k]} in the grad_outputs when using the double backward trick to compute forward mode gradients. This is not allowed in strict mode."
                    );
            }
        }
        return (ys.Select(y => Finish(y, createGraph)).ToArray(), jvp.Select(t => Finish(t, createGraph)).ToArray());
    }

    /// <summary>(∂f/∂x) v for one input and one output.</summary>
    public static (Tensor Output, Tensor Jvp) Jvp(Func<Tensor, Tensor> f, Tensor input, Tensor? v = null)
    {
        var (y, g) = Jvp(xs => [f(xs[0])], [input], v is null ? null : [v]);
        return (y[0], g[0]);
    }

    /// <summary>
    /// The Hessian-vector product H v of a scalar function (torch.autograd.functional.hvp): returns f(x) and, per
    /// input, Σⱼ ∂²f/∂inputᵢ∂inputⱼ vⱼ. As PyTorch: the gradient g(x) with create_graph, then the double-backward trick
    /// on g (g's vector-Jacobian product is linear in a dummy u, so its gradient in u along v is H v).
    /// </summary>
    public static (Tensor Output, Tensor[] Hvp) Hvp(Objective f, Tensor[] inputs, Tensor[] v, bool createGraph = false)
    {
        return SecondOrder(f, inputs, v, createGraph, "Hvp", (g, xs, live) =>
            DoubleBackward([.. live.Select(j => g[j])], xs, v, createGraph, strict: false)
                .Select((t, k) => (live[k], t))
        );
    }

    /// <summary>
    /// The vector-Hessian product vᵀH of a scalar function (torch.autograd.functional.vhp): returns f(x) and, per
    /// input, Σᵢ vᵢᵀ ∂²f/∂inputᵢ∂inputⱼ: the vector-Jacobian product of the gradient taken with create_graph.
    /// </summary>
    public static (Tensor Output, Tensor[] Vhp) Vhp(Objective f, Tensor[] inputs, Tensor[] v, bool createGraph = false)
    {
        return SecondOrder(f, inputs, v, createGraph, "Vhp", (g, xs, live) =>
            VectorJacobian(live.Select(j => g[j]), xs, live.Select(j => v[j]), createGraph).Select((t, j) => (j, t))
        );
    }

    /// <summary>
    /// hvp and vhp: f(x) and its gradient g taken with create_graph (<see cref="GradientWithGraph"/>), then
    /// <paramref name="product"/> of g's live entries, as (input, value) pairs; an input it leaves out or gives no
    /// value for gets zeros.
    /// </summary>
    static (Tensor Output, Tensor[] Product) SecondOrder(
        Objective f,
        Tensor[] inputs,
        Tensor[] v,
        bool createGraph,
        string what,
        Func<IList<Tensor>, Tensor[], int[], IEnumerable<(int Input, Tensor Value)>> product
    )
    {
        CheckShapes(inputs, v, "v", "inputs");
        var xs = Prepare(inputs, createGraph);
        var result = xs.Select(x => zeros_like(x)).ToArray();
        using var _ = enable_grad();
        var (y, g, live) = GradientWithGraph(f, xs, what);
        if (live.Length > 0)
            foreach (var (j, t) in product(g, xs, live))
                if (!t.IsInvalid)
                    result[j] = t;
        return (Finish(y, createGraph), result.Select(t => Finish(t, createGraph)).ToArray());
    }

    /// <summary>The first half of hessian, hvp and vhp: f(x), its gradient g taken with create_graph, and the inputs
    /// whose gradient has a graph (none, and g empty, when f(x) has no graph).</summary>
    static (Tensor Y, IList<Tensor> G, int[] Live) GradientWithGraph(Objective f, Tensor[] xs, string what)
    {
        var y = ScalarOutput(f, xs, what);
        if (!y.requires_grad)
            return (y, [], []);
        var g = SafeGrad.Checked([y], xs, retain_graph: true, create_graph: true, allow_unused: true);
        return (y, g, [.. Enumerable.Range(0, xs.Length).Where(j => !g[j].IsInvalid && g[j].requires_grad)]);
    }

    /// <summary>Σᵢ vᵢᵀ ∂yᵢ/∂xⱼ for each xⱼ (invalid where no y depends on xⱼ); the graph is kept when
    /// <paramref name="createGraph"/>.</summary>
    static IList<Tensor> VectorJacobian(IEnumerable<Tensor> ys, Tensor[] xs, IEnumerable<Tensor> v, bool createGraph) =>
        SafeGrad.Checked([.. ys], xs, [.. v], retain_graph: createGraph, create_graph: createGraph, allow_unused: true);

    /// <summary>
    /// The double-backward trick of PyTorch's jvp and hvp: g(u) = Σᵢ uᵢᵀ ∂yᵢ/∂x is linear in dummies u, so
    /// ∂(Σⱼ g(u)ⱼᵀ vⱼ)/∂uᵢ = Σⱼ ∂yᵢ/∂xⱼ vⱼ. Returns that per yᵢ (invalid where it does not reach uᵢ), or nothing when
    /// no g(u)ⱼ has a graph. With <paramref name="strict"/>, a g(u)ⱼ without a graph is an error
    /// (_check_requires_grad(grad_res, "grad_inputs")).
    /// </summary>
    static IList<Tensor> DoubleBackward(Tensor[] ys, Tensor[] xs, Tensor[] v, bool createGraph, bool strict)
    {
        var u = ys.Select(y => zeros_like(y).requires_grad_(true)).ToArray();
        var g = SafeGrad.Checked(ys, xs, u, retain_graph: true, create_graph: true, allow_unused: true);
        for (int j = 0; strict && j < xs.Length; j++)
        {
            if (g[j].IsInvalid)
                throw Independent(j);
            if (!g[j].requires_grad)
                throw new ArgumentException(
                    $"The gradient with respect to input {j} is independent of the inputs of the user-provided function. This is not allowed in strict mode."
                );
        }
        var live = Enumerable.Range(0, xs.Length).Where(j => !g[j].IsInvalid && g[j].requires_grad).ToArray();
        return live.Length == 0 ? [] : VectorJacobian(live.Select(j => g[j]), u, live.Select(j => v[j]), createGraph);
    }

    /// <summary>PyTorch's _check_requires_grad(outputs, "outputs", strict=True).</summary>
    static void RequireGrad(Tensor[] ys)
    {
        for (int i = 0; i < ys.Length; i++)
            if (!ys[i].requires_grad)
                throw new ArgumentException(
                    $"Output {i} of the user-provided function does not require gradients. The outputs must be computed in a differentiable manner from the input when running in strict mode."
                );
    }

    static ArgumentException Independent(int input) =>
        new(
            $"The output of the user-provided function is independent of input {input}. This is not allowed in strict mode."
        );

    static Tensor ScalarOutput(Objective f, Tensor[] xs, string what)
    {
        var y = f(xs);
        return y.numel() == 1
            ? y
            : throw new ArgumentException(
                $"the function given to {what} must return a single-element tensor, not one of shape [{string.Join(", ", y.shape)}]"
            );
    }

    static void CheckShapes(Tensor[] like, Tensor[] v, string name, string what)
    {
        if (like.Length != v.Length)
            throw new ArgumentException(
                $"{name} has {v.Length} tensors; expected one per {what[..^1]} ({like.Length})",
                name
            );
        for (int i = 0; i < v.Length; i++)
            if (!v[i].shape.SequenceEqual(like[i].shape))
                throw new ArgumentException(
                    $"{name}[{i}] has shape [{string.Join(", ", v[i].shape)}]; expected "
                        + $"[{string.Join(", ", like[i].shape)}], the shape of the {what}[{i}]",
                    name
                );
    }
}
