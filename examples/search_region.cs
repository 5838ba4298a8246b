// A backward that is wrong only on part of the domain (here x < −1) passes gradcheck at PyTorch's usual point in [0,
// 1); GradCheck.Search checks many points of a box and prints the simplest failing input it can shrink to. Run from the
// repository root: dotnet run examples/search_region.cs
#:project ../src/TorchLabs.GradCheck/TorchLabs.GradCheck.csproj
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchLabs.Gradients;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

using var gen = new Generator(0);
var usual = rand([3], ScalarType.Float64, generator: gen).requires_grad_(true);
Console.WriteLine(
    $"gradcheck at one point in [0, 1): pass {GradCheck.Check(v => [SinWrongBelowMinusOne.apply(v[0])], [usual]).Pass}"
);

var clock = System.Diagnostics.Stopwatch.StartNew();
var found = GradCheck.Search(
    v => [SinWrongBelowMinusOne.apply(v[0])],
    [
        [3],
    ],
    new SearchOptions
    {
        Low = -4,
        High = 4,
        Seed = 1,
    }
);
Console.WriteLine(
    $"search over [-4, 4]³: pass {found.Pass} after {found.TrialsRun} points ({clock.Elapsed.TotalMilliseconds:F0} ms)"
);
Console.WriteLine(found.Describe());
return found.Pass ? 1 : 0;

/// <summary>sin with a backward that is right for x ≥ −1 and off by 0.5 below.</summary>
sealed class SinWrongBelowMinusOne : SingleTensorFunction<SinWrongBelowMinusOne>
{
    public override string Name => nameof(SinWrongBelowMinusOne);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        ctx.save_for_backward([x]);
        return x.sin();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var x = ctx.get_saved_variables()[0];
        return [g * (x.cos() + 0.5 * (x < -1).to_type(x.dtype))];
    }
}
