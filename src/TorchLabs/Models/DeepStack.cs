using TorchSharp.Modules;

namespace TorchLabs.Models;

/// <summary>
/// A deep stack of equal-width layers, a_i = φ(W_i a_{i−1} + b_i) (plus a_{i−1} in the residual stack), followed by a
/// linear head to class scores. Notes 003 eqs. 52-75. Weights are zero-mean Gaussian and biases zero, as the notes
/// assumes; <see cref="Forward"/> keeps every a_i so gradients can be read layer by layer.
/// </summary>
public abstract class DeepStack : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<Linear> layers = new();
    readonly Linear head;

    public int Depth { get; }
    public int Width { get; }

    protected DeepStack(
        string name,
        int depth,
        int width,
        int classes,
        double weightStd,
        Generator generator,
        ScalarType dtype
    )
        : base(name)
    {
        if (depth < 1)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "expected depth >= 1");
        if (width < 1)
            throw new ArgumentOutOfRangeException(nameof(width), width, "expected width >= 1");
        Depth = depth;
        Width = width;
        for (int i = 0; i < depth; i++)
            layers.Add(nn.Linear(width, width, dtype: dtype));
        head = nn.Linear(width, classes, dtype: dtype);
        using (no_grad())
        {
            foreach (var l in layers)
            {
                l.weight!.normal_(0, weightStd, generator);
                l.bias!.zero_();
            }
            Init.PyTorchDefault(head.weight!, head.bias, generator);
        }
        RegisterComponents();
    }

    /// <summary>The layer's activation φ.</summary>
    public abstract Tensor Activation(Tensor h);

    /// <summary>Whether a_i adds a_{i−1} (the residual stack, eq. 75).</summary>
    public virtual bool Residual => false;

    public IReadOnlyList<Linear> Layers => layers.ToList();
    public Linear Head => head;

    /// <summary>a_0 = x, a_i for i = 1..depth, and the class scores.</summary>
    public (Tensor[] A, Tensor Scores) Forward(Tensor x)
    {
        var a = new Tensor[Depth + 1];
        a[0] = x;
        for (int i = 1; i <= Depth; i++)
        {
            var h = layers[i - 1].call(a[i - 1]); // h_i = W_i a_{i−1} + b_i
            a[i] = Residual ? Activation(h) + a[i - 1] : Activation(h); // a_i = φ(h_i) (+ a_{i−1})
        }
        return (a, head.call(a[Depth]));
    }

    public override Tensor forward(Tensor x) => Forward(x).Scores;
}
