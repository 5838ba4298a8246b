namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs vanishing`'s options, bound into <see cref="VanishingOptions"/>.</summary>
sealed class VanishingCommandOptions
{
    readonly Option<int> depth = new("--depth")
    {
        Description = "Layers in each stack for the gradient norms",
        DefaultValueFactory = _ => 100,
    };
    readonly Option<int> width = new("--width") { Description = "Units per layer", DefaultValueFactory = _ => 32 };
    readonly Option<int> steps = new("--steps")
    {
        Description = "SGD steps of each training run",
        DefaultValueFactory = _ => 300,
    };
    readonly Option<double> lr = new("--lr")
    {
        Description = "SGD learning rate of the training runs",
        DefaultValueFactory = _ => 0.1,
    };
    readonly Option<string> trainDepths = new("--train-depths")
    {
        Description = "Depths of the training runs",
        DefaultValueFactory = _ => "10,50,100",
    };
    readonly Option<long> seed = CommonOptions.Seed();
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<string> outDir = CommonOptions.Out("out/vanishing");
    readonly Option<int?> threads = CommonOptions.Threads();
    readonly Option<string?> tensorboard = CommonOptions.TensorBoard();

    public IEnumerable<Symbol> Symbols =>
        [depth, width, steps, lr, trainDepths, seed, format, outDir, threads, tensorboard];

    /// <summary>The lab's options, validated (threads applied).</summary>
    public (VanishingOptions Options, bool Json, string OutDir) Bind(ParseResult p)
    {
        CommonOptions.Setup(p.GetValue(threads), "cpu");
        var o = new VanishingOptions
        {
            Depth = p.GetValue(depth),
            Width = p.GetValue(width),
            Steps = p.GetValue(steps),
            LearningRate = p.GetValue(lr),
            Seed = p.GetValue(seed),
            TrainDepths = CommonOptions.ParseSizes(p.GetValue(trainDepths)!, "--train-depths", 1),
            ModelsDir = Path.Combine(p.GetValue(outDir)!, "models"),
            TensorBoardDir = p.GetValue(tensorboard),
        };
        o.Validate();
        return (o, p.GetValue(format) == "json", p.GetValue(outDir)!);
    }
}
