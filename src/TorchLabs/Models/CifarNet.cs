using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace TorchLabs.Models;

/// <summary>
/// The Net of PyTorch's CIFAR-10 tutorial ("Training a classifier"; notes 003, last part):
/// conv 3->6 (5x5), ReLU, max-pool 2x2, conv 6->16 (5x5), ReLU, max-pool 2x2, flatten to 16*5*5 = 400,
/// fc 400->120, ReLU, fc 120->84, ReLU, fc 84->10. 62,006 parameters.
/// </summary>
public sealed class CifarNet : Module<Tensor, Tensor>
{
    public const int ParameterCount = 62_006;

    private readonly Conv2d conv1,
        conv2;
    private readonly MaxPool2d pool;
    private readonly Linear fc1,
        fc2,
        fc3;

    /// <summary>Builds the net with PyTorch's default initialisation drawn from <paramref name="generator"/>.</summary>
    public CifarNet(Generator generator)
        : base(nameof(CifarNet))
    {
        conv1 = Conv2d(3, 6, 5);
        pool = MaxPool2d(2, 2);
        conv2 = Conv2d(6, 16, 5);
        fc1 = Linear(16 * 5 * 5, 120);
        fc2 = Linear(120, 84);
        fc3 = Linear(84, 10);
        RegisterComponents();
        foreach (
            var (w, b) in new[]
            {
                (conv1.weight!, conv1.bias),
                (conv2.weight!, conv2.bias),
                (fc1.weight!, fc1.bias),
                (fc2.weight!, fc2.bias),
                (fc3.weight!, fc3.bias),
            }
        )
            Init.PyTorchDefault(w, b, generator);
    }

    /// <summary>
    /// The tutorial's forward as written: x = pool(relu(conv1(x))); x = pool(relu(conv2(x))); x = flatten(x, 1);
    /// x = relu(fc1(x)); x = relu(fc2(x)); x = fc3(x). x: [N, 3, 32, 32] normalised images; returns [N, 10] logits.
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        x = pool.call(functional.relu(conv1.call(x)));
        x = pool.call(functional.relu(conv2.call(x)));
        x = x.flatten(1);
        x = functional.relu(fc1.call(x));
        x = functional.relu(fc2.call(x));
        return fc3.call(x);
    }

    /// <summary>The layers, for code that works on them directly (the opt-in hand step in Fast/).</summary>
    public (Conv2d Conv1, Conv2d Conv2, Linear Fc1, Linear Fc2, Linear Fc3) Layers => (conv1, conv2, fc1, fc2, fc3);
}
