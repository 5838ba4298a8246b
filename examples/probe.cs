#:project ../src/TorchLabs/TorchLabs.csproj
#:property PublishAot=false
using TorchSharp;
using static TorchSharp.torch;

var x = randn(3, dtype: ScalarType.Float64).requires_grad_(true);
var w = randn(3, dtype: ScalarType.Float64).requires_grad_(true);
var y = x * 2;
var g = torch.autograd.grad([y], [x, w], [ones_like(y)], retain_graph: true, allow_unused: true);
Console.WriteLine($"{g.Count} {g[0].IsInvalid} {g[1] is null} {(g[1] is null ? "" : g[1].IsInvalid.ToString())}");
var z = Sq.apply(x);
var gz = torch.autograd.grad([z.sum()], [x], create_graph: true)[0];
Console.WriteLine($"gz req {gz.requires_grad}");
var ggz = torch.autograd.grad([gz.sum()], [x])[0];
Console.WriteLine(string.Join(",", ggz.data<double>().ToArray()));

class Sq : torch.autograd.SingleTensorFunction<Sq>
{
    public override string Name => "Sq";
    public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
    { var x = (Tensor)vars[0]; ctx.save_for_backward([x]); return x * x; }
    public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor g)
    { var x = ctx.get_saved_variables()[0]; return [2 * x * g]; }
}
