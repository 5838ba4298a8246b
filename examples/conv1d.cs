// Check your own derivation: a 1-D convolution (cross-correlation, as nn.Conv1d) with a hand-written backward.
// Run from the repository root: dotnet run examples/conv1d.cs
#:project ../src/TorchLabs.GradCheck/TorchLabs.GradCheck.csproj
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

using var gen = new Generator(3);
var x = randn([2, 3, 8], ScalarType.Float64, generator: gen).requires_grad_(true); // N × C_in × T
var W = randn([4, 3, 3], ScalarType.Float64, generator: gen).requires_grad_(true); // C_out × C_in × K
var b = randn([4], ScalarType.Float64, generator: gen).requires_grad_(true);

GradCheck.Assert(v => [Conv1d.apply(v[0], v[1], v[2])], [x, W, b]);
GradCheck.AssertGradGrad(v => [Conv1d.apply(v[0], v[1], v[2])], [x, W, b]);
double diff = (Conv1d.apply(x, W, b) - nn.functional.conv1d(x, W, b)).abs().max().item<double>();
Console.WriteLine($"conv1d: gradcheck and gradgradcheck passed; max |hand − nn.functional.conv1d| = {diff:E1}");

/// <summary>
/// y[n,o,t] = Σ_c Σ_k W[o,c,k] x[n,c,t+k] + b[o]. With g = ∂L/∂y:
/// ∂L/∂b[o] = Σ_{n,t} g[n,o,t]; ∂L/∂W[o,c,k] = Σ_{n,t} g[n,o,t] x[n,c,t+k]; ∂L/∂x[n,c,s] = Σ_o Σ_k g[n,o,s−k] W[o,c,k]
/// (a full convolution).
/// </summary>
sealed class Conv1d : SingleTensorFunction<Conv1d>
{
    public override string Name => nameof(Conv1d);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor x = (Tensor)vars[0],
            W = (Tensor)vars[1],
            b = (Tensor)vars[2];
        ctx.save_for_backward([x, W]);
        var windows = x.unfold(2, W.shape[2], 1); // [n, c, t, k] = x[n, c, t + k]
        return einsum("nctk,ock->not", windows, W) + b.view(1, -1, 1);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0],
            W = saved[1];
        var windows = x.unfold(2, W.shape[2], 1);
        var db = g.sum([0, 2]); // Σ_{n,t} g[n,o,t]
        var dW = einsum("not,nctk->ock", g, windows); // Σ_{n,t} g[n,o,t] x[n,c,t+k]
        var dx = nn.functional.conv_transpose1d(g, W); // Σ_o Σ_k g[n,o,s−k] W[o,c,k]
        return [dx, dW, db];
    }
}
