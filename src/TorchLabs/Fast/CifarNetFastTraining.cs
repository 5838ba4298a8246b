using TorchLabs.Models;

namespace TorchLabs.Fast;

/// <summary>
/// cifar10's ‹impl› fast, whole: the fused SGD (<see cref="FlatSgd"/>) in place of torch.optim.SGD, and the
/// hand-written forward and backward (<see cref="CifarNetFastStep"/>) in place of the tutorial's <c>outputs =
/// net(inputs)</c>, <c>loss = criterion(outputs, labels)</c>, <c>loss.backward()</c>; equal to them to float32
/// rounding. Made after the Net is on its device (the fused SGD makes the parameters views of one buffer).
/// </summary>
public sealed class CifarNetFastTraining(CifarNet net, double lr, double momentum) : IDisposable
{
    readonly CifarNetFastStep pass = new(net);

    /// <summary>The optimizer of the fast path.</summary>
    public FlatSgd Sgd { get; } = new([.. net.parameters()], lr, momentum);

    /// <summary>The loss of the step, as a scalar tensor; every parameter's .grad holds ∂L/∂θ after it.</summary>
    public Tensor LossBackward(Tensor inputs, Tensor labels) => tensor(pass.LossBackward(inputs, labels));

    public void Dispose() => Sgd.Dispose();
}
