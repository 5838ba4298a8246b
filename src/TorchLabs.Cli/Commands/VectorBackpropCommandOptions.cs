namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs vector-backprop`'s options, bound into <see cref="VectorBackpropOptions"/>.</summary>
sealed class VectorBackpropCommandOptions
{
    readonly Option<string> rng = new("--rng")
    {
        Description = "numpy (NumPy's legacy generator, as the document) or torch",
        DefaultValueFactory = _ => "numpy",
    };
    readonly Option<string> init = new("--init")
    {
        Description =
            "he (randn·√(2/n), what produced the document's costs) or as-written (randn·√2, the document's code)",
        DefaultValueFactory = _ => "he",
    };
    readonly Option<string> impl = CommonOptions.Impl(
        "all (both, compared), reference (the notes' formulas on plain arrays) or torch (autograd)",
        Impl.All,
        Impl.Reference,
        Impl.Torch
    );
    readonly Option<int> iterations = new("--iterations")
    {
        Description = "Gradient-descent iterations",
        DefaultValueFactory = _ => 2000,
    };
    readonly Option<double> lr = new("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 0.01 };
    readonly Option<double> lambd = new("--lambd") { Description = "L2 strength λ", DefaultValueFactory = _ => 0 };
    readonly Option<string> dims = new("--dims")
    {
        Description = "Layer sizes",
        DefaultValueFactory = _ => "12288,20,7,5,1",
    };
    readonly Option<int> m = new("--m") { Description = "Number of examples", DefaultValueFactory = _ => 200 };
    readonly Option<int> printEvery = new("--print-every")
    {
        Description = "Print the cost every N iterations",
        DefaultValueFactory = _ => 100,
    };
    readonly Option<long> seed = new("--seed")
    {
        Description = "Seed of X and Y (the document: 1)",
        DefaultValueFactory = _ => 1,
    };
    readonly Option<long> weightSeed = new("--weight-seed")
    {
        Description = "Seed of the weights (the document: 10)",
        DefaultValueFactory = _ => 10,
    };
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<string> outDir = CommonOptions.Out("out/vector-backprop");
    readonly Option<int?> threads = CommonOptions.Threads();

    public VectorBackpropCommandOptions()
    {
        rng.AcceptOnlyFromAmong("numpy", "torch");
        init.AcceptOnlyFromAmong("he", "as-written");
    }

    public IEnumerable<Symbol> Symbols =>
        [rng, init, impl, iterations, lr, lambd, dims, m, printEvery, seed, weightSeed, format, outDir, threads];

    /// <summary>The lab's options; threads applied (every core by default: its matrix products are large).</summary>
    public (VectorBackpropOptions Options, bool Json, string OutDir) Bind(ParseResult p)
    {
        CommonOptions.Setup(p.GetValue(threads), "cpu", Runtime.TorchRuntime.Cores);
        var o = new VectorBackpropOptions
        {
            Rng = p.GetValue(rng)!,
            Init = p.GetValue(init)!,
            Impl = p.GetValue(impl)!,
            Iterations = p.GetValue(iterations),
            LearningRate = p.GetValue(lr),
            Lambd = p.GetValue(lambd),
            Dims = CommonOptions.ParseSizes(p.GetValue(dims)!, "--dims"),
            M = p.GetValue(m),
            PrintEvery = p.GetValue(printEvery),
            Seed = p.GetValue(seed),
            WeightSeed = p.GetValue(weightSeed),
            ModelsDir = Path.Combine(p.GetValue(outDir)!, "models"),
        };
        return (o, p.GetValue(format) == "json", p.GetValue(outDir)!);
    }
}
