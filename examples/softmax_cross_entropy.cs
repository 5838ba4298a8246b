// Check your own derivation: softmax + cross-entropy with a hand-written backward.
// Run from the repository root: dotnet run examples/softmax_cross_entropy.cs
#:project ../src/TorchLabs.GradCheck/TorchLabs.GradCheck.csproj
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

using var gen = new Generator(42);
var z = randn([4, 5], ScalarType.Float64, generator: gen).requires_grad_(true); // logits, 4 samples × 5 classes
var labels = tensor(new long[] { 1, 0, 4, 2 });

// GradCheck compares the Jacobian of your backward with central differences (PyTorch's algorithm and tolerances).
GradCheck.Assert(v => [SoftmaxCrossEntropy.apply(v[0], labels)], [z]);
GradCheck.AssertGradGrad(v => [SoftmaxCrossEntropy.apply(v[0], labels)], [z]); // and its second derivatives
Console.WriteLine(
    $"softmax cross-entropy: loss {SoftmaxCrossEntropy.apply(z, labels).item<double>():F6}; gradcheck and gradgradcheck "
        + $"passed"
);

/// <summary>L = −(1/N) Σₙ log softmax(zₙ)[yₙ];  ∂L/∂z = (softmax(z) − onehot(y)) / N.</summary>
sealed class SoftmaxCrossEntropy : SingleTensorFunction<SoftmaxCrossEntropy>
{
    public override string Name => nameof(SoftmaxCrossEntropy);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor z = (Tensor)vars[0],
            y = (Tensor)vars[1];
        ctx.save_for_backward([z, y]);
        return -z.log_softmax(1).gather(1, y.unsqueeze(1)).mean();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var saved = ctx.get_saved_variables();
        Tensor z = saved[0],
            y = saved[1];
        var onehot = nn.functional.one_hot(y, z.shape[1]).to_type(z.dtype);
        return [(z.softmax(1) - onehot) / z.shape[0] * g, null!]; // no gradient for the labels
    }
}
