using TorchSharp.Modules;

namespace TorchLabs.Models;

/// <summary>What tells the notes' three stacks apart: the activation φ, the weights' standard deviation for a width,
/// and whether a_i adds a_{i−1}.</summary>
public sealed record StackKind(string Name, Func<Tensor, Tensor> Phi, Func<int, double> WeightStd, bool Residual)
{
    /// <summary>Notes 003 eq. 52: a_i = σ(W_i a_{i−1} + b_i). σ′ ≤ 1/4, so gradients shrink with depth; std
    /// 1/√width.</summary>
    public static readonly StackKind Sigmoid = new("SigmoidStack", h => h.sigmoid(), w => 1 / Math.Sqrt(w), false);

    /// <summary>The ReLU remedy (notes 003, "Effect of ReLU"): a_i = ReLU(W_i a_{i−1} + b_i), He-scaled weights (std
    /// √(2/width)).</summary>
    public static readonly StackKind Relu = new(
        "ReluStack",
        h => nn.functional.relu(h),
        w => Math.Sqrt(2.0 / w),
        false
    );

    /// <summary>Notes 003 eq. 75: a_i = σ(W_i a_{i−1} + b_i) + a_{i−1}. The identity path gives ∂a_i/∂a_{i−1} = I +
    /// diag(σ′)W_i, so the product over layers does not shrink to 0.</summary>
    public static readonly StackKind SigmoidResidual = new("ResidualStack", Sigmoid.Phi, Sigmoid.WeightStd, true);
}

/// <summary>
/// A deep stack of equal-width layers, a_i = φ(W_i a_{i−1} + b_i) (plus a_{i−1} in the residual stack), followed by a
/// linear head to class scores. Notes 003 eqs. 52-75. Weights are zero-mean Gaussian and biases zero, as the notes
/// assumes; <see cref="Forward"/> keeps every a_i so gradients can be read layer by layer.
/// </summary>
public sealed class DeepStack : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<Linear> layers = new();
    readonly Linear head;

    public StackKind Kind { get; }
    public int Depth { get; }
    public int Width { get; }

    /// <param name="weightStd">The layers' weight standard deviation; by default the kind's for the width.</param>
    public DeepStack(
        StackKind kind,
        int depth,
        int width,
        int classes,
        Generator generator,
        ScalarType dtype = ScalarType.Float32,
        double? weightStd = null
    )
        : base(kind.Name)
    {
        if (depth < 1)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "expected depth >= 1");
        if (width < 1)
            throw new ArgumentOutOfRangeException(nameof(width), width, "expected width >= 1");
        Kind = kind;
        Depth = depth;
        Width = width;
        for (int i = 0; i < depth; i++)
            layers.Add(nn.Linear(width, width, dtype: dtype));
        head = nn.Linear(width, classes, dtype: dtype);
        using (no_grad())
        {
            foreach (var l in layers)
            {
                l.weight!.normal_(0, weightStd ?? kind.WeightStd(width), generator);
                l.bias!.zero_();
            }
            Init.PyTorchDefault(head.weight!, head.bias, generator);
        }
        RegisterComponents();
    }

    /// <summary>The layer's activation φ.</summary>
    public Tensor Activation(Tensor h) => Kind.Phi(h);

    /// <summary>Whether a_i adds a_{i−1} (the residual stack, eq. 75).</summary>
    public bool Residual => Kind.Residual;

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
            a[i] = Residual ? Activation(h).Add(a[i - 1], 1) : Activation(h); // a_i = φ(h_i) (+ a_{i−1})
        }
        return (a, head.call(a[Depth]));
    }

    public override Tensor forward(Tensor x) => Forward(x).Scores;
}
