using System.Text.Json;
using TorchLabs.Gradients;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Gradients.Generated;

/// <summary>What a checker said of a case: "pass", "fail" or "error", and the first line of its message.</summary>
public sealed record Answer(string Verdict, string Message);

/// <summary>
/// One case of scripts/golden/gradcheck_generated.py, run through TorchSharp and GradCheck: the same inputs (values,
/// dtypes, layouts, requires_grad), the same program (registers: the inputs, then every operation's results), the same
/// options.
/// </summary>
public sealed class GeneratedCase(JsonElement c)
{
    public string Id { get; } = c.GetProperty("id").GetString()!;

    /// <summary>PyTorch 1.13's answer, as the script recorded it.</summary>
    public Answer PyTorch { get; } = new(c.GetProperty("verdict").GetString()!, c.GetProperty("message").GetString()!);

    public bool FastMode => Options.GetProperty("fast_mode").GetBoolean();

    public bool RaiseException => Options.GetProperty("raise_exception").GetBoolean();

    JsonElement Options => c.GetProperty("options");

    /// <summary>The case as one line of JSON, to print with a difference.</summary>
    public string Json => c.GetRawText();

    public GradCheckOptions CheckOptions() =>
        new()
        {
            FastMode = FastMode,
            Eps = Options.GetProperty("eps").GetDouble(),
            Atol = Options.GetProperty("atol").GetDouble(),
            Rtol = Options.GetProperty("rtol").GetDouble(),
            NondetTol = Options.GetProperty("nondet_tol").GetDouble(),
            CheckUndefinedGrad = Options.GetProperty("check_undefined_grad").GetBoolean(),
            CheckGradDtypes = Options.GetProperty("check_grad_dtypes").GetBoolean(),
        };

    /// <summary>GradCheck's answer: its verdict and the first line of its first failure, or "error" when it
    /// throws.</summary>
    public Answer GradCheck()
    {
        using var scope = NewDisposeScope();
        try
        {
            var r = TorchLabs.Gradients.GradCheck.Check(Program, Inputs(), CheckOptions());
            return r.Pass ? new("pass", "") : new("fail", r.Failures[0].Split('\n')[0].TrimEnd('\r'));
        }
        catch (Exception e)
            when (e
                    is ArgumentException
                        or InvalidOperationException
                        or System.Runtime.InteropServices.ExternalException
            )
        {
            return new("error", $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>The outputs' kinds in order: 'g' a floating-point output with a graph, 'f' one without, 'i' an integer
    /// one.</summary>
    public string OutputKinds()
    {
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        return string.Concat(
            Program(Inputs())
                .Select(y =>
                    y.requires_grad ? 'g'
                    : y.is_floating_point() || y.is_complex() ? 'f'
                    : 'i'
                )
        );
    }

    public Tensor[] Inputs() => [.. c.GetProperty("inputs").EnumerateArray().Select(Input)];

    static Tensor Input(JsonElement s)
    {
        long[] shape = [.. s.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
        string dtype = s.GetProperty("dtype").GetString()!;
        double[] v = [.. s.GetProperty("values").EnumerateArray().Select(e => e.GetDouble())];
        Tensor flat = dtype switch
        {
            "complex128" => Complex(v),
            "float32" => tensor(v, ScalarType.Float64).to_type(ScalarType.Float32),
            "int64" => tensor(v.Select(e => (long)e).ToArray()),
            _ => tensor(v, ScalarType.Float64),
        };
        var x = s.GetProperty("layout").GetString() switch
        {
            "transposed" => flat.reshape(shape[1], shape[0]).t(),
            "sliced" => flat.reshape([.. shape[..^1], 2 * shape[^1]]).slice(-1, 0, 2 * shape[^1], 2),
            "expanded" => flat.reshape([1, .. shape[1..]]).expand(shape),
            _ => flat.reshape(shape),
        };
        return x.requires_grad_(s.GetProperty("requires_grad").GetBoolean());
    }

    static Tensor Complex(double[] pairs)
    {
        var p = tensor(pairs, ScalarType.Float64).reshape(-1, 2);
        return complex(p.select(1, 0), p.select(1, 1));
    }

    Tensor[] Program(Tensor[] xs)
    {
        var regs = new List<Tensor>(xs);
        foreach (var step in c.GetProperty("steps").EnumerateArray())
            regs.AddRange(Apply(step, regs));
        return [.. c.GetProperty("outputs").EnumerateArray().Select(i => regs[i.GetInt32()])];
    }

    static Tensor[] Apply(JsonElement step, List<Tensor> regs)
    {
        string op = step.GetProperty("op").GetString()!;
        Tensor[] a = [.. step.GetProperty("args").EnumerateArray().Select(i => regs[i.GetInt32()])];
        Tensor x = a[0];
        long Int(string name) => step.GetProperty(name).GetInt64();
        if (op.StartsWith("fn_"))
            return GeneratedFunctions.Apply(op, x);
        return
        [
            op switch
            {
                "sin" => x.sin(),
                "cos" => x.cos(),
                "exp" => x.exp(),
                "tanh" => x.tanh(),
                "neg" => x.neg(),
                "square" => x * x,
                "sigmoid" => x.sigmoid(),
                "relu" => x.relu(),
                "abs" => x.abs(),
                "atan" => x.atan(),
                "conj" => x.conj(),
                "real" => x.real,
                "imag" => x.imag,
                "angle" => x.angle(),
                "sum" => x.sum(),
                "mean" => x.mean(),
                "prod" => x.prod(),
                "norm" => linalg.vector_norm(x),
                "reshape_flat" => x.reshape(-1),
                "unsqueeze0" => x.unsqueeze(0),
                "flip0" => x.flip(0),
                "t" => x.t(),
                "detach" => x.detach(),
                "argmax" => x.argmax(),
                "expand2" => x.unsqueeze(0).expand([2, .. x.shape]),
                "sum_dim" => x.sum(Int("dim")),
                "amax_dim" => x.amax([Int("dim")]),
                "logsumexp_dim" => x.logsumexp(Int("dim")),
                "narrow0" => x.narrow(0, Int("start"), Int("length")),
                "select0" => x.select(0, Int("index")),
                "index_select0" => x.index_select(
                    0,
                    tensor(step.GetProperty("index").EnumerateArray().Select(e => e.GetInt64()).ToArray())
                ),
                "add" => a[0] + a[1],
                "sub" => a[0] - a[1],
                "mul" => a[0] * a[1],
                "maximum" => a[0].maximum(a[1]),
                "atan2" => a[0].atan2(a[1]),
                "complex" => complex(a[0], a[1]),
                "div_safe" => a[0] / (a[1] * a[1] + 1),
                "add_int" => a[0] + a[1].to_type(a[0].dtype),
                _ => throw new ArgumentException($"no generated op named {op}"),
            },
        ];
    }
}
