using TorchLabs.Functions;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace TorchLabs.Models;

/// <summary>
/// A multi-layer perceptron: Linear layers of the given sizes with an activation between them (none after the last),
/// composed with TorchSharp's nn.Sequential. Layer l computes z_l = W_l a_{l−1} + b_l.
/// With <see cref="HandBackward"/> the same layers run as <see cref="LinearActivationFunction"/>s, whose backward is
/// the hand delta recursion instead of libtorch's autograd formulas (same parameters, same forward values).
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public int[] Sizes { get; }
    public string Activation { get; }

    /// <summary>Backward by the hand delta recursion (<see cref="LinearActivationFunction"/>) instead of
    /// autograd.</summary>
    public bool HandBackward { get; }

    public Mlp(
        int[] sizes,
        string activation,
        Generator generator,
        ScalarType dtype = ScalarType.Float32,
        bool handBackward = false
    )
        : base(nameof(Mlp))
    {
        if (sizes.Length < 2 || sizes.Any(s => s < 1))
            throw new ArgumentException("expected at least two positive layer sizes");
        Sizes = sizes;
        Activation = activation;
        HandBackward = handBackward;
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        for (int l = 1; l < sizes.Length; l++)
        {
            var linear = Linear(sizes[l - 1], sizes[l], dtype: dtype);
            Init.PyTorchDefault(linear.weight!, linear.bias, generator);
            modules.Add(($"fc{l}", linear));
            if (l < sizes.Length - 1)
                modules.Add(($"act{l}", MakeActivation(activation)));
        }
        layers = Sequential(modules);
        RegisterComponents();
    }

    /// <summary>The activation layer of <paramref name="name"/>, from the one catalogue (<see
    /// cref="Functions.Activations"/>); an unknown name is rejected.</summary>
    public static Module<Tensor, Tensor> MakeActivation(string name) =>
        new ActivationLayer(Functions.Activations.Find(name));

    /// <summary>A catalogue activation as a layer of nn.Sequential (no parameters).</summary>
    sealed class ActivationLayer : Module<Tensor, Tensor>
    {
        readonly Activation activation;

        public ActivationLayer(Activation activation)
            : base(activation.Name)
        {
            this.activation = activation;
        }

        public override Tensor forward(Tensor x) => activation.Torch(x);
    }

    public override Tensor forward(Tensor x) => HandBackward ? HandForward(x) : layers.call(x);

    /// <summary>a_l = σ(W_l a_{l−1} + b_l) layer by layer through the hand-backward Function (no σ after the last
    /// layer).</summary>
    Tensor HandForward(Tensor x)
    {
        var linears = LinearLayers;
        var a = x;
        for (int l = 0; l < linears.Count; l++)
            a = LinearActivationFunction.Apply(
                a,
                linears[l].weight!,
                linears[l].bias!,
                l < linears.Count - 1 ? Activation : "identity"
            );
        return a;
    }

    /// <summary>The Linear layers in order (W_l is layer.weight, [n_l, n_{l−1}]).</summary>
    public IReadOnlyList<Linear> LinearLayers => layers.children().OfType<Linear>().ToList();
}
