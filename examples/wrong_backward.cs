// What a wrong derivation looks like: the backward of x·sin(x) forgets the x·cos(x) term of the product rule.
// GradCheck.Assert throws GradCheckException with the Jacobians side by side; this program prints it and exits 1.
// Run from the repository root: dotnet run examples/wrong_backward.cs
#:project ../src/TorchLabs.GradCheck/TorchLabs.GradCheck.csproj
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

using var gen = new Generator(1);
var x = randn([4], ScalarType.Float64, generator: gen).requires_grad_(true);
try
{
    GradCheck.Assert(v => [XSinX.apply(v[0])], [x]);
    Console.WriteLine("x sin x: gradcheck passed (it should not have)");
    return 0;
}
catch (GradCheckException e)
{
    Console.Error.WriteLine("x sin x: gradcheck failed, as it should:");
    Console.Error.WriteLine(e.Message);
    return 1;
}

/// <summary>f(x) = x sin x; the true derivative is sin x + x cos x, this backward returns only sin x.</summary>
sealed class XSinX : SingleTensorFunction<XSinX>
{
    public override string Name => nameof(XSinX);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        ctx.save_for_backward([x]);
        return x * x.sin();
    }

    // wrong: + x cos x is missing
    public override List<Tensor> backward(AutogradContext ctx, Tensor g) => [g * ctx.get_saved_variables()[0].sin()];
}
