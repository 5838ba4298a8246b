using static TorchSharp.torch;

namespace TorchLabs.Gradients;

/// <summary>
/// <c>torch.autograd.grad</c> through <c>torch.autograd.backward(…, inputs)</c>. TorchSharp 0.107's native <c>THSAutograd_grad</c>
/// lets a libtorch error escape (no CATCH), which ends the process (a custom Function returning a gradient of the wrong shape
/// does it); <c>THSAutograd_backward</c> turns it into an exception. So a checker asks for gradients this way: each input's
/// <c>.grad</c> is set aside, the gradients are accumulated into fresh ones, taken, and the old <c>.grad</c> put back.
/// </summary>
static class SafeGrad
{
    /// <summary>∂(Σ gᵢᵀ yᵢ)/∂xⱼ for every xⱼ; null where xⱼ is unused. Throws (an ordinary exception) where backward fails.</summary>
    /// <remarks>
    /// With <paramref name="createGraph"/> (gradgradcheck's first derivatives) it is <c>autograd.grad</c> itself: backward with
    /// create_graph makes libtorch warn of a reference cycle through .grad on every call, and <see cref="GradCheck.Check"/> has
    /// already run the same backward safely by then.
    /// </remarks>
    internal static Tensor?[] Grad(IList<Tensor> ys, IList<Tensor> xs, IList<Tensor> gs, bool retainGraph, bool createGraph = false)
    {
        if (createGraph)
            return autograd.grad(ys, xs, gs, retain_graph: retainGraph, create_graph: true, allow_unused: true)
                .Select(g => g is null || g.IsInvalid ? null : g).ToArray();
        var saved = xs.Select(x => x.grad).ToArray();
        foreach (var x in xs) x.grad = null;
        try
        {
            autograd.backward(ys, gs, retainGraph, createGraph, xs);
            return xs.Select(x => x.grad).ToArray();
        }
        finally
        {
            for (int j = 0; j < xs.Count; j++) xs[j].grad = saved[j];
        }
    }
}
