namespace TorchLabs.Gradients;

/// <summary>
/// <c>torch.autograd.grad</c> through <c>torch.autograd.backward(…, inputs)</c>. TorchSharp 0.107's native
/// <c>THSAutograd_grad</c> lets a libtorch error escape (no CATCH), which ends the process (a custom Function returning
/// a gradient of the wrong shape does it); <c>THSAutograd_backward</c> turns it into an exception. So a checker asks
/// for gradients this way: each input's <c>.grad</c> is set aside, the gradients are accumulated into fresh ones,
/// taken, and the old <c>.grad</c> put back.
/// </summary>
static class SafeGrad
{
    /// <summary>∂(Σ gᵢᵀ yᵢ)/∂xⱼ for every xⱼ; null where xⱼ is unused. Throws (an ordinary exception) where backward
    /// fails.</summary>
    /// <remarks>
    /// With <paramref name="createGraph"/> (gradgradcheck's first derivatives) it is <c>autograd.grad</c> itself:
    /// backward with create_graph makes libtorch warn of a reference cycle through .grad on every call, and <see
    /// cref="GradCheck.Check"/> has already run the same backward safely by then.
    /// </remarks>
    internal static Tensor?[] Grad(
        IList<Tensor> ys,
        IList<Tensor> xs,
        IList<Tensor> gs,
        bool retainGraph,
        bool createGraph = false
    )
    {
        if (createGraph)
            return Checked(ys, xs, gs, retain_graph: retainGraph, create_graph: true, allow_unused: true)
                .Select(g => g is null || g.IsInvalid ? null : g)
                .ToArray();
        var saved = xs.Select(x => x.grad).ToArray();
        foreach (var x in xs)
            x.grad = null;
        try
        {
            autograd.backward(ys, gs, retainGraph, createGraph, xs);
            return xs.Select(x => x.grad).ToArray();
        }
        finally
        {
            for (int j = 0; j < xs.Count; j++)
                xs[j].grad = saved[j];
        }
    }

    /// <summary>
    /// <c>autograd.grad</c> for the graphs it must build (create_graph, which <see cref="Grad"/> cannot make safely),
    /// after the same backward was run once through <see cref="Grad"/>: a user's backward that fails throws an ordinary
    /// exception there instead of ending the process in <c>THSAutograd_grad</c>. Grad outputs default to ones, as
    /// <c>autograd.grad</c>'s do for scalars.
    /// </summary>
    internal static IList<Tensor> Checked(
        IList<Tensor> outputs,
        IList<Tensor> inputs,
        IList<Tensor>? grad_outputs = null,
        bool retain_graph = false,
        bool create_graph = false,
        bool allow_unused = false
    )
    {
        Grad(outputs, inputs, grad_outputs ?? [.. outputs.Select(y => ones_like(y))], retainGraph: true);
        return autograd.grad(
            outputs,
            inputs,
            grad_outputs,
            retain_graph: retain_graph,
            create_graph: create_graph,
            allow_unused: allow_unused
        );
    }
}
