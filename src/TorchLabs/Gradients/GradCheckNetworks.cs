namespace TorchLabs.Gradients;

/// <summary>Options of `torchlabs gradcheck`; each network reads the ones it needs.</summary>
public sealed record NetworkCheckOptions
{
    public long Seed { get; init; } = Seeds.Default;
    public string? CaseFile { get; init; }
    public int D { get; init; } = 4;
    public int S { get; init; } = 5;
    public int K { get; init; } = 3;
    public int[]? Sizes { get; init; }
    public string Activation { get; init; } = "sigmoid";
    public int M { get; init; } = 10;
    public double Lambd { get; init; } = 0.7;

    /// <summary>small-cnn: "untied" (the notes'), "tied" (PyTorch's), or null for both.</summary>
    public string? Bias { get; init; }
}

/// <summary>The networks of `torchlabs gradcheck`, by name.</summary>
public static class GradCheckNetworks
{
    public static readonly string[] Names =
    [
        "dropout-concat",
        "small-cnn",
        "mlp-l2",
        "chain-dydx",
        "graph-examples",
        "activations",
        "vector-backprop",
    ];

    public static IReadOnlyList<NetworkCheckResult> Run(string network, NetworkCheckOptions o)
    {
        if (o.Sizes is int[] sizes)
        {
            double parameters = sizes.Zip(sizes.Skip(1), (a, b) => (double)a * b + b).Sum();
            MemoryBudget.RequireCheckable(
                network == "vector-backprop" ? parameters + (double)sizes[0] * o.M : parameters,
                $"‹sizes› {string.Join(",", sizes)}"
            );
        }
        return RunChecked(network, o);
    }

    static IReadOnlyList<NetworkCheckResult> RunChecked(string network, NetworkCheckOptions o) =>
        network switch
        {
            "dropout-concat" =>
            [
                DropoutConcatCheck.Run(
                    o.CaseFile is not null
                        ? DropoutConcatCase.Load(o.CaseFile)
                        : DropoutConcatCase.Random(o.D, o.S, o.K, o.Seed)
                ),
            ],
            "small-cnn" => o.Bias switch
            {
                null =>
                [
                    SmallCnnCheck.Run(new SmallCnnShape(), false, o.Seed),
                    SmallCnnCheck.Run(new SmallCnnShape(), true, o.Seed),
                ],
                "untied" => [SmallCnnCheck.Run(new SmallCnnShape(), false, o.Seed)],
                "tied" => [SmallCnnCheck.Run(new SmallCnnShape(), true, o.Seed)],
                _ => throw new UsageException($"‹bias› {o.Bias}: expected tied or untied"),
            },
            "mlp-l2" => [MlpL2Check.Run(o.Sizes ?? [4, 6, 5, 3], o.Activation, o.Seed)],
            "chain-dydx" => [ChainJacobian.Run(o.Sizes ?? [4, 6, 5, 3], o.Activation, o.Seed)],
            "graph-examples" =>
            [
                GraphExamples.AsResult("graph-examples: f = x²y + y + 2", GraphExamples.Polynomial(), v =>
                    v[0] * v[0] * v[1] + v[1] + 2
                ),
                GraphExamples.AsResult("graph-examples: s = σ(wx + b)", GraphExamples.Neuron(), v =>
                    1 / (1 + Math.Exp(-(v[1] * v[0] + v[2])))
                ),
            ],
            "activations" => [ActivationsCheck.Run()],
            "vector-backprop" => [VectorBackprop.Run(o.Sizes ?? [12, 5, 4, 3, 1], o.M, o.Lambd, o.Seed)],
            _ => throw new UsageException(
                $"{network}: unknown network; expected one of {string.Join(", ", Names)} (or all)"
            ),
        };

    /// <summary>The JSON object of one result: network, loss, hand, autograd, numeric (each gradient nested in its
    /// variable's shape), maxRelError.</summary>
    public static object ToJson(NetworkCheckResult r) =>
        new Dictionary<string, object?>
        {
            ["network"] = r.Network,
            ["loss"] = double.IsNaN(r.Loss) ? null : r.Loss,
            ["hand"] = r.Entries.ToDictionary(e => e.Name, e => HandVsAutograd.Nest(e.Hand, e.Shape)),
            ["autograd"] = r.Entries.ToDictionary(e => e.Name, e => HandVsAutograd.Nest(e.Autograd, e.Shape)),
            ["numeric"] = r.Entries.ToDictionary(
                e => e.Name,
                e => e.Numeric is null ? null : HandVsAutograd.Nest(e.Numeric, e.Shape)
            ),
            ["maxRelError"] = r.MaxRelError,
            ["maxNumericRelError"] = r.MaxNumericRelError,
            ["pass"] = r.Pass,
        };
}
