using System.Text.Json;
using TorchLabs.Gradients;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients;

/// <summary>
/// Jacobians, Hessians, vjp, jvp and gradcheck verdicts against PyTorch 1.13 itself
/// (scripts/golden/autograd_functional.py): the same functions, by name, at the same float64 inputs. Jacobians and
/// Hessians to 1e-12 absolute.
/// </summary>
public class AutogradFunctionalGoldenTests
{
    const double Tolerance = 1e-12;

    static readonly JsonElement Golden = JsonDocument
        .Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "autograd_functional.json")))
        .RootElement;

    static readonly Tensor Labels = tensor(new long[] { 0, 3, 1 });

    /// <summary>The functions of the golden script, written again in TorchSharp.</summary>
    public static readonly Dictionary<string, Func<Tensor[], Tensor[]>> Functions = new()
    {
        ["sin"] = x => [x[0].sin()],
        ["x_exp_x"] = x => [x[0] * x[0].exp()],
        ["tanh"] = x => [x[0].tanh()],
        ["softmax"] = x => [x[0].softmax(0)],
        ["log_softmax"] = x => [nn.functional.log_softmax(x[0], 1)],
        ["matvec"] = x => [matmul(x[0], x[1])],
        ["cumsum"] = x => [x[0].cumsum(0)],
        ["norm"] = x => [x[0].norm()],
        ["logsumexp"] = x => [x[0].logsumexp(1)],
        ["outer_squared"] = x => [outer(x[0], x[1]).pow(2)],
        ["two_outputs"] = x => [x[0].sigmoid() * x[1], (x[0] * x[1]).sum()],
        ["layer_norm"] = x => [nn.functional.layer_norm(x[0], [4])],
        ["cross_entropy"] = x => [nn.functional.cross_entropy(x[0], Labels)],
        ["unused_input"] = x => [x[0] * 2],
    };

    static readonly Dictionary<string, Func<Tensor[], Tensor>> Scalars = new()
    {
        ["cubic"] = x => x[0].pow(3).sum(),
        ["logsumexp"] = x => x[0].logsumexp(0),
        ["quadratic_form"] = x => matmul(matmul(x[1], x[0]), x[1]),
        ["rosenbrock"] = x => (1 - x[0][0]).pow(2) + 100 * (x[0][1] - x[0][0].pow(2)).pow(2),
        ["prod_sin"] = x => x[0].sin().prod(),
    };

    /// <summary>A golden file's tensor ({"shape", "values"}) in float64, then in <paramref name="dtype"/> (the suite
    /// tests too).</summary>
    internal static Tensor Decode(JsonElement e, ScalarType dtype = ScalarType.Float64) =>
        tensor(
                e.GetProperty("values").EnumerateArray().Select(GoldenNumbers.Number).ToArray(),
                e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray(),
                ScalarType.Float64
            )
            .to_type(dtype);

    static Tensor[] DecodeAll(JsonElement e, string name) =>
        e.GetProperty(name).EnumerateArray().Select(v => Decode(v)).ToArray();

    static void AssertClose(JsonElement expected, Tensor actual, string what)
    {
        var want = Decode(expected);
        Assert.Equal(want.shape, actual.shape);
        double err = GradCheck.MaxAbs(GradCheck.Values(want), GradCheck.Values(actual));
        Assert.True(err <= Tolerance, $"{what}: max abs error {err:E2} > {Tolerance:E0}");
    }

    static TheoryData<string> Names(string section)
    {
        var d = new TheoryData<string>();
        foreach (var c in Golden.GetProperty(section).EnumerateArray())
            d.Add(c.GetProperty("name").GetString()!);
        return d;
    }

    public static TheoryData<string> JacobianNames() => Names("jacobians");

    public static TheoryData<string> HessianNames() => Names("hessians");

    public static TheoryData<string> ProductNames() => Names("vjp");

    public static TheoryData<string> VerdictNames() => Names("gradcheck");

    static JsonElement Case(string section, string name) =>
        Golden.GetProperty(section).EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    [Fact]
    public void GoldenFile_HasAtLeastTenFunctions() =>
        Assert.True(Golden.GetProperty("jacobians").GetArrayLength() >= 10);

    [Theory]
    [MemberData(nameof(JacobianNames))]
    public void Jacobian_MatchesPyTorch(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case("jacobians", name);
        var J = AutogradFunctional.Jacobian(Functions[name], DecodeAll(c, "inputs"));
        var blocks = c.GetProperty("jacobian").EnumerateArray().Select(row => row.EnumerateArray().ToArray()).ToArray();
        Assert.Equal(blocks.Length, J.GetLength(0));
        for (int i = 0; i < blocks.Length; i++)
        for (int j = 0; j < blocks[i].Length; j++)
            AssertClose(blocks[i][j], J[i, j], $"{name} J[{i},{j}]");
    }

    [Theory]
    [MemberData(nameof(JacobianNames))]
    public void GradCheck_PassesOnEveryGoldenFunction(string name)
    {
        using var scope = NewDisposeScope();
        var inputs = DecodeAll(Case("jacobians", name), "inputs").Select(x => x.requires_grad_(true)).ToArray();
        var r = GradCheck.Check(Functions[name], inputs);
        Assert.True(r.Pass, r.Message);
        Assert.True(r.MaxAbsError < 1e-6, $"{name}: {r.MaxAbsError:E2}");
    }

    [Theory]
    [MemberData(nameof(HessianNames))]
    public void Hessian_MatchesPyTorch(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case("hessians", name);
        var H = AutogradFunctional.Hessian(Scalars[name], DecodeAll(c, "inputs"));
        var blocks = c.GetProperty("hessian").EnumerateArray().Select(row => row.EnumerateArray().ToArray()).ToArray();
        for (int i = 0; i < blocks.Length; i++)
        for (int j = 0; j < blocks[i].Length; j++)
            AssertClose(blocks[i][j], H[i, j], $"{name} H[{i},{j}]");
    }

    [Theory]
    [MemberData(nameof(ProductNames))]
    public void VjpAndJvp_MatchPyTorch(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case("vjp", name);
        var (_, vjp) = AutogradFunctional.Vjp(Functions[name], DecodeAll(c, "inputs"), DecodeAll(c, "v"));
        var want = c.GetProperty("vjp").EnumerateArray().ToArray();
        for (int j = 0; j < want.Length; j++)
            AssertClose(want[j], vjp[j], $"{name} vjp[{j}]");
        var d = Case("jvp", name);
        var (_, jvp) = AutogradFunctional.Jvp(Functions[name], DecodeAll(d, "inputs"), DecodeAll(d, "v"));
        var wantJ = d.GetProperty("jvp").EnumerateArray().ToArray();
        for (int i = 0; i < wantJ.Length; i++)
            AssertClose(wantJ[i], jvp[i], $"{name} jvp[{i}]");
    }

    /// <summary>PyTorch's strict=True in jacobian, vjp and jvp: the same refusals, word for word, and the same
    /// passes.</summary>
    [Fact]
    public void Strict_RefusesWhatPyTorchRefuses_InItsWords()
    {
        using var scope = NewDisposeScope();
        var cases = Golden.GetProperty("strict").EnumerateArray().ToList();
        Assert.Contains(cases, c => c.GetProperty("message").GetString() == "");
        foreach (var c in cases)
        {
            string api = c.GetProperty("api").GetString()!,
                name = c.GetProperty("name").GetString()!;
            var f = name == "detached" ? (x => [x[0].detach() * 2]) : Functions[name];
            var inputs = DecodeAll(c, "inputs");
            Action call = api switch
            {
                "jacobian" => () => AutogradFunctional.Jacobian(f, inputs, strict: true),
                "vjp" => () =>
                    AutogradFunctional.Vjp(f, inputs, [.. f(inputs).Select(y => ones_like(y))], strict: true),
                _ => () => AutogradFunctional.Jvp(f, inputs, [.. inputs.Select(x => ones_like(x))], strict: true),
            };
            string expected = c.GetProperty("message").GetString()!;
            if (expected == "")
                call();
            else
                Assert.Equal(expected, Assert.Throws<ArgumentException>(call).Message);
        }
    }

    [Theory]
    [MemberData(nameof(VerdictNames))]
    public void GradCheck_GivesPyTorchsVerdict_OnHandWrittenBackward(string name)
    {
        using var scope = NewDisposeScope();
        var c = Case("gradcheck", name);
        var inputs = DecodeAll(c, "inputs").Select(x => x.requires_grad_(true)).ToArray();
        var r = GradCheck.Check(WrongBackwards.ByName[name], inputs);
        Assert.Equal(c.GetProperty("pass").GetBoolean(), r.Pass);
        if (!r.Pass)
            Assert.StartsWith("Jacobian mismatch for output 0 with respect to input", r.Message);
    }
}
