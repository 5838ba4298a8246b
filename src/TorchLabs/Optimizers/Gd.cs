namespace TorchLabs.Optimizers;

/// <summary>
/// Gradient descent, torch.optim.SGD with momentum 0: θ ← θ − η g.
/// Notes 000/001 Q3 (<c>x -= lr*grad</c>, lr 1e-3). Same as torch: weight decay adds λθ to g.
/// </summary>
public sealed class Gd(IEnumerable<Tensor> parameters, double lr, double weightDecay = 0)
    : HandOptimizer(parameters, lr, weightDecay)
{
    protected override void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t)
    {
        p.Add_(g, -LearningRate); // θ ← θ − η g
    }
}
