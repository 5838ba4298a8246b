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
    internal static Tensor?[] Grad(IList<Tensor> ys, IList<Tensor> xs, IList<Tensor> gs, bool retainGraph, bool createGraph = false)
    {
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
