// Three checks PyTorch's gradcheck does not make: a whole module by parameter name, a kink told apart from a backward
// error, and fast mode on a large function. Run from the repository root: dotnet run examples/module_check.cs
#:project ../src/TorchLabs.GradCheck/TorchLabs.GradCheck.csproj
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchLabs.Gradients;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

torch.manual_seed(1);
var gen = new Generator(2);

// 1. A small CNN whose last layer has a hand-written backward with ∂L/∂W doubled: the check names the parameter.
var net = new SmallCnn();
var images = randn([2, 1, 6, 6], generator: gen);
var labels = tensor(new long[] { 0, 2 });
var module = GradCheck.Module(net, images, y => nn.functional.cross_entropy(y, labels));
foreach (var p in module.Parameters)
    Console.WriteLine(
        $"{p.Name, -13} {(p.Pass ? "ok" : "WRONG")}  max |analytical − numerical| = " + $"{p.MaxAbsError:E2}"
    );
Console.WriteLine(module.Message.Split('\n')[0]);

// 2. relu at exactly 0: PyTorch's gradcheck fails it like a bug; here the report says it is a kink.
var x = tensor(new[] { 0.0, 0.7, -0.4 }, ScalarType.Float64).requires_grad_(true);
var relu = GradCheck.Check(v => [v[0].relu()], [x]);
Console.WriteLine($"relu at 0: pass {relu.Pass}, only kinks {relu.OnlyKinks}");
Console.WriteLine(string.Join('\n', relu.Message.Split('\n').Where(l => l.Contains("not differentiable"))));

// 2b. A backward that returns 5 at relu's kink, outside its one-sided slopes [0, 1]: a backward error, not a kink.
var five = GradCheck.Check(v => [ReluFiveAtZero.apply(v[0])], [x]);
Console.WriteLine($"relu with backward 5 at 0: pass {five.Pass}, only kinks {five.OnlyKinks}");

// 3. Fast mode: vᵀJu instead of the 1,000 × 100 Jacobian.
var W = randn([100, 1000], ScalarType.Float64, generator: gen) / Math.Sqrt(1000);
var big = randn([1000], ScalarType.Float64, generator: gen).requires_grad_(true);
var fast = GradCheck.Check(v => [matmul(W, v[0]).tanh()], [big], new GradCheckOptions { FastMode = true });
Console.WriteLine(
    $"fast mode, 1000 inputs → 100 outputs: pass {fast.Pass}, vᵀJu {fast.FastBlocks[0].Analytical:F12} (backward) "
        + $"vs {fast.FastBlocks[0].Numerical:F12} (differences)"
);
return module.Failing.SequenceEqual(["fc2.weight"]) && relu.OnlyKinks && !five.Pass && !five.OnlyKinks && fast.Pass
    ? 0
    : 1;

/// <summary>conv → relu → flatten → linear → tanh → a linear layer with a wrong hand backward.</summary>
sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv1 = nn.Conv2d(1, 2, 3);
    readonly Linear fc1 = nn.Linear(32, 5);
    readonly Linear fc2 = nn.Linear(5, 3);

    public SmallCnn()
        : base(nameof(SmallCnn)) => RegisterComponents();

    public override Tensor forward(Tensor x) =>
        WrongLinear.apply(fc1.forward(conv1.forward(x).relu().flatten(1)).tanh(), fc2.weight!, fc2.bias!)[0];
}

/// <summary>y = x Wᵀ + b; backward returns 2 gᵀx for ∂L/∂W (the truth is gᵀx).</summary>
sealed class WrongLinear : MultiTensorFunction<WrongLinear>
{
    public override string Name => nameof(WrongLinear);

    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        Tensor x = (Tensor)vars[0],
            W = (Tensor)vars[1],
            b = (Tensor)vars[2];
        ctx.save_for_backward([x, W]);
        return [nn.functional.linear(x, W, b)];
    }

    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> g)
    {
        var s = ctx.get_saved_variables();
        return [matmul(g[0], s[1]), 2 * matmul(g[0].t(), s[0]), g[0].sum(0, false)];
    }
}

/// <summary>relu whose backward gives 5 at exactly 0 (the kink) and the right slope elsewhere.</summary>
sealed class ReluFiveAtZero : SingleTensorFunction<ReluFiveAtZero>
{
    public override string Name => nameof(ReluFiveAtZero);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        ctx.save_for_backward([x]);
        return x.relu();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor g)
    {
        var x = ctx.get_saved_variables()[0];
        return [g * where(x.eq(0), full_like(x, 5), (x > 0).to_type(x.dtype))];
    }
}
