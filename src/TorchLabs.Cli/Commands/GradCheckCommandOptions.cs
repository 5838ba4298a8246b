using TorchLabs.Gradients;

namespace TorchLabs.Cli.Commands;

/// <summary>What `torchlabs gradcheck` was asked: a network (or all, ops, functions) and the networks'
/// options.</summary>
sealed record GradCheckRequest(string Network, NetworkCheckOptions Options, string[]? Ops, bool Json);

/// <summary>`torchlabs gradcheck`'s options, bound into a <see cref="GradCheckRequest"/>.</summary>
sealed class GradCheckCommandOptions
{
    readonly Argument<string> network = new("NETWORK")
    {
        Description =
            string.Join(", ", GradCheckNetworks.Names)
            + $", or all; ops (libtorch's own gradients, GradCheck over {OpsCatalogue.All.Length} operations); functions (the hand-backward autograd Functions: gradcheck, gradgradcheck, vs autograd)",
    };
    readonly Option<string[]> op = new("--op")
    {
        Description = "ops: check only these operations (names as in the table)",
        AllowMultipleArgumentsPerToken = true,
    };
    readonly Option<string?> caseFile = new("--case")
    {
        Description = "dropout-concat: a JSON object with x, y, W1, b1, W2, b2, m (default: a seeded random case)",
    };
    readonly Option<int> d = new("--d") { Description = "dropout-concat: input size d", DefaultValueFactory = _ => 4 };
    readonly Option<int> s = new("--s") { Description = "dropout-concat: hidden size s", DefaultValueFactory = _ => 5 };
    readonly Option<int> k = new("--k")
    {
        Description = "dropout-concat: number of classes k",
        DefaultValueFactory = _ => 3,
    };
    readonly Option<string?> sizes = new("--sizes")
    {
        Description = "mlp-l2, chain-dydx, vector-backprop: layer sizes, e.g. 4,6,5,3",
    };
    readonly Option<string> activation = new("--activation")
    {
        Description = "mlp-l2, chain-dydx: sigmoid or tanh",
        DefaultValueFactory = _ => "sigmoid",
    };
    readonly Option<int> m = new("--m")
    {
        Description = "vector-backprop: number of examples",
        DefaultValueFactory = _ => 10,
    };
    readonly Option<double> lambd = new("--lambd")
    {
        Description = "vector-backprop: L2 strength λ",
        DefaultValueFactory = _ => 0.7,
    };
    readonly Option<string?> bias = new("--bias")
    {
        Description = "small-cnn: untied (the notes') or tied (PyTorch's); default both",
    };
    readonly Option<long> seed = CommonOptions.Seed();
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<int?> threads = CommonOptions.Threads();

    public GradCheckCommandOptions()
    {
        activation.AcceptOnlyFromAmong("sigmoid", "tanh");
        bias.AcceptOnlyFromAmong("untied", "tied");
    }

    public IEnumerable<Symbol> Symbols =>
        [network, caseFile, d, s, k, sizes, activation, m, lambd, bias, op, seed, format, threads];

    public GradCheckRequest Bind(ParseResult p)
    {
        CommonOptions.Setup(p.GetValue(threads), "cpu");
        string name = p.GetValue(network)!;
        if (name != "ops" && p.GetValue(op) is { Length: > 0 })
            throw new UsageException($"--op: only `gradcheck ops` reads it, not {name}");
        if (p.GetValue(caseFile) is not null && name != "dropout-concat")
            throw new UsageException($"--case: only the dropout-concat network reads a case file, not {name}");
        var o = new NetworkCheckOptions
        {
            Seed = p.GetValue(seed),
            CaseFile = p.GetValue(caseFile),
            D = p.GetValue(d),
            S = p.GetValue(s),
            K = p.GetValue(k),
            Sizes = p.GetValue(sizes) is string text ? CommonOptions.ParseSizes(text) : null,
            Activation = p.GetValue(activation)!,
            M = p.GetValue(m),
            Lambd = p.GetValue(lambd),
            Bias = p.GetValue(bias),
        };
        return new GradCheckRequest(name, o, p.GetValue(op), p.GetValue(format) == "json");
    }
}
