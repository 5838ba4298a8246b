using TorchSharp;
using TorchLabs.Gradients.Functions;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TorchLabs.Models;

/// <summary>
/// The Net of PyTorch's CIFAR-10 tutorial ("Training a classifier"; seed 003, last part):
/// conv 3->6 (5x5), ReLU, max-pool 2x2, conv 6->16 (5x5), ReLU, max-pool 2x2, flatten to 16*5*5 = 400,
/// fc 400->120, ReLU, fc 120->84, ReLU, fc 84->10. 62,006 parameters.
/// </summary>
public sealed partial class CifarNet : Module<Tensor, Tensor>
{
    public const int ParameterCount = 62_006;

    private readonly Conv2d conv1, conv2;
    private readonly MaxPool2d pool;
    private readonly Linear fc1, fc2, fc3;

    /// <summary>Builds the net with PyTorch's default initialisation drawn from <paramref name="generator"/>.</summary>
    public CifarNet(Generator generator) : base(nameof(CifarNet))
    {
        conv1 = Conv2d(3, 6, 5);
        pool = MaxPool2d(2, 2);
        conv2 = Conv2d(6, 16, 5);
        fc1 = Linear(16 * 5 * 5, 120);
        fc2 = Linear(120, 84);
        fc3 = Linear(84, 10);
        RegisterComponents();
        foreach (var (w, b) in new[] { (conv1.weight!, conv1.bias), (conv2.weight!, conv2.bias), (fc1.weight!, fc1.bias), (fc2.weight!, fc2.bias), (fc3.weight!, fc3.bias) })
            Init.PyTorchDefault(w, b, generator);
    }

    /// <summary>
    /// x: [N, 3, 32, 32] normalised images; returns [N, 10] logits. Functional calls on the layers' own weights, ReLU in place
    /// for the fully connected layers (autograd keeps ReLU's output, which in-place leaves intact), each convolution's ReLU and
    /// 2×2 max-pool as one <see cref="ReluMaxPoolFunction"/> (branch-free, the same numbers), and no dispose scope of its own:
    /// the caller's step scope (the training driver's, or evaluation's) frees the intermediates, one scope per step.
    /// Forward values and gradients equal <see cref="ForwardAsTutorial"/> bit for bit (tested).
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        var h = ReluMaxPoolFunction.Apply(functional.conv2d(x, conv1.weight!, conv1.bias));
        h = ReluMaxPoolFunction.Apply(functional.conv2d(h, conv2.weight!, conv2.bias));
        h = h.flatten(1);
        h = functional.relu(functional.linear(h, fc1.weight!, fc1.bias), inplace: true);
        h = functional.relu(functional.linear(h, fc2.weight!, fc2.bias), inplace: true);
        return functional.linear(h, fc3.weight!, fc3.bias);
    }

    /// <summary>The tutorial's forward as written, with its modules: pool(relu(conv1(x))), pool(relu(conv2(x))), flatten, fc1–fc3.</summary>
    public Tensor ForwardAsTutorial(Tensor x)
    {
        var h = pool.call(functional.relu(conv1.call(x)));
        h = pool.call(functional.relu(conv2.call(h)));
        h = h.flatten(1);
        h = functional.relu(fc1.call(h));
        h = functional.relu(fc2.call(h));
        return fc3.call(h);
    }
}
