using static TorchSharp.torch.autograd;

namespace TorchLabs.Functions;

/// <summary>
/// Softmax and cross-entropy as one autograd Function with a hand-written backward: for logits z [N, C] (or [C]) and
/// target distributions T of the same shape, L = −(1/N) Σₙ Tₙᵀ log softmax(zₙ) (notes 003 eq. 8 averaged over the
/// batch), and ∂L/∂z = (softmax(z) − T)/N (notes 003 eq. 15, ∂L/∂h₃ = ŷ − y), ∂L/∂T = −log softmax(z)/N. The backward
/// is written in differentiable ops on the saved z, so it has a second derivative (gradgradcheck).
/// </summary>
public sealed class SoftmaxCrossEntropyFunction : SingleTensorFunction<SoftmaxCrossEntropyFunction>
{
    public override string Name => "SoftmaxCrossEntropy";

    /// <summary>L for logits <paramref name="z"/> and target distributions <paramref name="T"/> (rows of one-hot or
    /// soft labels).</summary>
    public static Tensor Apply(Tensor z, Tensor T) => apply(z, T);

    /// <summary>L for logits [N, C] and class indices [N] (int64), as nn.functional.cross_entropy with mean
    /// reduction.</summary>
    public static Tensor ApplyLabels(Tensor z, Tensor labels) =>
        apply(z, nn.functional.one_hot(labels, z.shape[^1]).to_type(z.dtype));

    static long Batch(Tensor z) => z.dim() == 1 ? 1 : z.shape[0];

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor z = (Tensor)vars[0],
            T = (Tensor)vars[1];
        if (!T.shape.SequenceEqual(z.shape))
            throw new ArgumentException(
                $"targets have shape [{string.Join(", ", T.shape)}]; expected "
                    + $"the logits' shape [{string.Join(", ", z.shape)}]"
            );
        ctx.save_for_backward([z, T]);
        return -(T * z.log_softmax(-1)).sum() / Batch(z); // L = −(1/N) Σₙ Tₙᵀ log softmax(zₙ)
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var saved = ctx.get_saved_variables();
        Tensor z = saved[0],
            T = saved[1];
        long N = Batch(z);
        var dz = (z.softmax(-1) - T) / N * g; // ∂L/∂z = (softmax(z) − T)/N   (eq. 15: ŷ − y)
        var dT = -z.log_softmax(-1) / N * g; // ∂L/∂T = −log softmax(z)/N
        return [dz, dT];
    }
}
