using static TorchSharp.torch.autograd;

namespace TorchLabs.Gradients;

/// <summary>
/// PyTorch's <c>torch._C._functions.UndefinedGrad</c>: the identity (a copy) in the forward pass, and an undefined
/// gradient in the backward pass, whatever comes in. The Function before it then receives an undefined gradient for
/// that output: zeros when it materializes gradients (the default), or an undefined tensor after
/// <c>ctx.set_materialize_grads(false)</c>.
/// </summary>
sealed class UndefinedGradFunction : SingleTensorFunction<UndefinedGradFunction>
{
    public override string Name => "UndefinedGrad";

    public override Tensor forward(AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

    public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [null!];
}
