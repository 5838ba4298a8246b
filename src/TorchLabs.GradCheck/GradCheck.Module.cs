namespace TorchLabs.Gradients;

/// <summary>One parameter (or input) of a module check: its name, and whether its gradient matched central
/// differences.</summary>
/// <param name="MaxAbsError">max |analytical − numerical| over the parameter's Jacobian.</param>
public sealed record ParameterCheck(string Name, long[] Shape, bool Pass, double MaxAbsError, bool OnlyKinks);

/// <summary>What <see cref="GradCheck.Module(nn.Module{Tensor, Tensor}, Tensor, Func{Tensor, Tensor}?,
/// GradCheckOptions?, long?)"/> found.</summary>
/// <param name="Parameters">Every checked tensor by name: the inputs that require grad ("input 0", …), then the
/// parameters.</param>
/// <param name="Result">The underlying check; its failure messages start with the parameter's name.</param>
public sealed record ModuleCheckResult(IReadOnlyList<ParameterCheck> Parameters, GradCheckResult Result)
{
    /// <summary>Every gradient matched.</summary>
    public bool Pass => Result.Pass;

    /// <summary>The names of the parameters whose gradients are wrong.</summary>
    public IEnumerable<string> Failing => Parameters.Where(p => !p.Pass).Select(p => p.Name);

    /// <summary>The failures, each starting with the parameter's name.</summary>
    public string Message => Result.Message;
}

public static partial class GradCheck
{
    /// <summary>
    /// Checks the gradient of every parameter of <paramref name="module"/> (and of the input, if it requires grad) by
    /// central differences, naming a failing one by its parameter name (<c>fc2.weight: Jacobian mismatch …</c>). The
    /// module runs in eval mode (dropout off, batch-norm statistics fixed) and in float64; checked is <paramref
    /// name="loss"/>(module(input)) when given, else the module's output. See <see cref="Module(nn.Module,
    /// Func{Tensor[], Tensor}, Tensor[], Func{Tensor, Tensor}?, GradCheckOptions?, long?)"/>.
    /// </summary>
    public static ModuleCheckResult Module(
        nn.Module<Tensor, Tensor> module,
        Tensor input,
        Func<Tensor, Tensor>? loss = null,
        GradCheckOptions? options = null,
        long? trainingSeed = null
    ) => Module(module, xs => module.forward(xs[0]), [input], loss, options, trainingSeed);

    /// <summary>
    /// As <see cref="Module(nn.Module{Tensor, Tensor}, Tensor, Func{Tensor, Tensor}?, GradCheckOptions?, long?)"/> for
    /// a module with any forward: <paramref name="forward"/> maps the inputs to the output. A module whose parameters
    /// are not float64 is converted with TorchSharp's <c>Module.to(float64)</c> for the check, and after it every
    /// submodule goes back to the dtype its own parameters had (float32 → float64 → float32 keeps every value; a
    /// float16 layer in a float32 model stays float16); TorchSharp's <c>to</c> makes new parameter tensors, so take
    /// references to the parameters (an optimizer's) after the check, or pass a module that is float64 already.
    /// Training mode is restored after the check.
    /// </summary>
    /// <param name="trainingSeed">Check in training mode (dropout on, batch-norm on batch statistics) rather than eval
    /// mode: <c>torch.manual_seed(trainingSeed)</c> before every evaluation, so that dropout draws the same mask at
    /// every perturbed point and in backward; the global generator's state is put back after the check.</param>
    public static ModuleCheckResult Module(
        nn.Module module,
        Func<Tensor[], Tensor> forward,
        Tensor[] inputs,
        Func<Tensor, Tensor>? loss = null,
        GradCheckOptions? options = null,
        long? trainingSeed = null
    )
    {
        var o = options ?? new GradCheckOptions();
        // Each module's own parameters' dtype, parents before children: restoring in this order gives each its dtype
        // back.
        var dtypes = module
            .named_modules()
            .Prepend(("", module))
            .Select(m =>
                (
                    m.Item2,
                    Dtype: m.Item2.named_parameters(recurse: false)
                        .Select(p => (ScalarType?)p.parameter.dtype)
                        .FirstOrDefault()
                )
            )
            .ToList();
        bool convert = module.parameters().Any(p => p.dtype != ScalarType.Float64);
        bool training = module.training;
        var rng = trainingSeed is null ? null : get_rng_state();
        if (convert)
            module.to(ScalarType.Float64);
        module.train(trainingSeed is not null);
        try
        {
            using var scope = NewDisposeScope();
            var named = module.named_parameters().Where(p => p.parameter.requires_grad).ToArray();
            var xs = inputs
                .Select(x =>
                    x.is_floating_point()
                        ? x.detach().to_type(ScalarType.Float64).clone().requires_grad_(x.requires_grad)
                        : x
                )
                .ToArray();
            string[] names = [.. xs.Select((_, j) => $"input {j}"), .. named.Select(p => p.name)];
            Tensor[] all = [.. xs, .. named.Select(p => (Tensor)p.parameter)];
            int n = xs.Length;
            Tensor[] Fn(Tensor[] v)
            {
                if (trainingSeed is long seed)
                    manual_seed(seed);
                var y = forward(v[..n]);
                return [loss is null ? y : loss(y)];
            }
            var result = CheckNamed(Fn, all, o, names);
            var byInput = result.Blocks.GroupBy(b => b.InputPosition).ToDictionary(g => g.Key, g => g.ToList());
            var checks = Enumerable
                .Range(0, all.Length)
                .Where(j => all[j].requires_grad)
                .Select(j =>
                {
                    var blocks = byInput.GetValueOrDefault(j) ?? [];
                    return new ParameterCheck(
                        names[j],
                        all[j].shape,
                        blocks.All(b => b.Pass),
                        blocks.Select(b => b.MaxAbsError).DefaultIfEmpty(0).Max(),
                        blocks.Any(b => !b.Pass) && blocks.Where(b => !b.Pass).All(b => b.OnlyKinks)
                    );
                })
                .ToList();
            return new ModuleCheckResult(checks, result);
        }
        finally
        {
            if (convert)
                foreach (var (m, dtype) in dtypes)
                    if (dtype is ScalarType d && m.parameters().Any(p => p.dtype != d))
                        m.to(d);
            module.train(training);
            if (rng is not null)
                set_rng_state(rng);
        }
    }
}
