// Check your own derivation: layer normalisation (Ba, Kiros and Hinton 2016) with a hand-written backward.
// Run from the repository root: dotnet run examples/layer_norm.cs
#:project ../src/TorchLabs.GradCheck/TorchLabs.GradCheck.csproj
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

using var gen = new Generator(7);
var x = randn([3, 6], ScalarType.Float64, generator: gen).requires_grad_(true);
var gamma = randn([6], ScalarType.Float64, generator: gen).requires_grad_(true);
var beta = randn([6], ScalarType.Float64, generator: gen).requires_grad_(true);

var result = GradCheck.Check(v => [LayerNorm.apply(v[0], v[1], v[2])], [x, gamma, beta]);
Console.WriteLine(
    $"layer norm: gradcheck {(result.Pass ? "passed" : "FAILED")}, {result.Blocks.Count} Jacobian blocks, max abs error "
        + $"{result.MaxAbsError:E1}"
);
if (!result.Pass)
{
    Console.Error.WriteLine(result.Message);
    return 1;
}

// The forward agrees with libtorch's own layer_norm too.
double diff = (LayerNorm.apply(x, gamma, beta) - nn.functional.layer_norm(x, [6], gamma, beta))
    .abs()
    .max()
    .item<double>();
Console.WriteLine($"layer norm: max |hand − nn.functional.layer_norm| = {diff:E1}");
return diff < 1e-12 ? 0 : 1;

/// <summary>
/// y = γ ⊙ x̂ + β, x̂ = (x − μ) / σ, μ and σ² the mean and (biased) variance of each row, σ = √(σ² + ε). With ĝ = ∂L/∂y
/// ⊙ γ: ∂L/∂x = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / σ, ∂L/∂γ = Σₙ ∂L/∂y ⊙ x̂, ∂L/∂β = Σₙ ∂L/∂y.
/// </summary>
sealed class LayerNorm : SingleTensorFunction<LayerNorm>
{
    const double Eps = 1e-5;
    public override string Name => nameof(LayerNorm);

    static (Tensor xhat, Tensor sigma) Normalise(Tensor x)
    {
        var mu = x.mean([1], keepdim: true);
        var sigma = (x.var(1, unbiased: false, keepdim: true) + Eps).sqrt();
        return ((x - mu) / sigma, sigma);
    }

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        Tensor x = (Tensor)vars[0],
            gamma = (Tensor)vars[1],
            beta = (Tensor)vars[2];
        ctx.save_for_backward([x, gamma]);
        return gamma * Normalise(x).xhat + beta;
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0],
            gamma = saved[1];
        var (xhat, sigma) = Normalise(x);
        var ghat = g * gamma; // ĝ = ∂L/∂y ⊙ γ
        var dx = (ghat - ghat.mean([1], keepdim: true) - xhat * (ghat * xhat).mean([1], keepdim: true)) / sigma;
        return [dx, (g * xhat).sum([0]), g.sum([0])];
    }
}
