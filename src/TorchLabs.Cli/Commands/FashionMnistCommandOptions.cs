namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs fashion-mnist`'s options, bound into <see cref="FashionMnistOptions"/>.</summary>
sealed class FashionMnistCommandOptions
{
    readonly Option<string?> optimizer = new("--optimizer")
    {
        Description = "gd (full batch), sgd (mini-batches) or adam; default all three",
    };
    readonly Option<string> activation = new("--activation")
    {
        Description = "Hidden-unit activation: sigmoid, relu or tanh",
        DefaultValueFactory = _ => "sigmoid",
    };
    readonly Option<int> train = new("--train")
    {
        Description = "Training images (the first N)",
        DefaultValueFactory = _ => 5000,
    };
    readonly Option<int> test = new("--test")
    {
        Description = "Test images (the first N)",
        DefaultValueFactory = _ => 1000,
    };
    readonly Option<int> batchSize = new("--batch-size")
    {
        Description = "Mini-batch size of SGD and Adam",
        DefaultValueFactory = _ => 32,
    };
    readonly Option<int?> epochs = new("--epochs") { Description = "Epochs (default: GD 300, SGD 20, Adam 20)" };
    readonly Option<double?> lr = new("--lr") { Description = "Learning rate (default: GD 1.0, SGD 0.1, Adam 0.001)" };
    readonly Option<int> hidden = new("--hidden") { Description = "Hidden units", DefaultValueFactory = _ => 28 };
    readonly Option<string> dataset = new("--dataset")
    {
        Description = "fashion-mnist or mnist (MNIST's IDX files in --data)",
        DefaultValueFactory = _ => "fashion-mnist",
    };
    readonly Option<bool> download = new("--download")
    {
        Description = "Download Fashion-MNIST from the publisher's mirror (MD5-checked) when it is not found",
    };
    readonly Option<bool> resume = new("--resume")
    {
        Description =
            "Continue each optimizer from its checkpoint in --out (written after every epoch); --epochs is the total. The other settings must match the checkpoint's, except --lr, which may change (the log says so)",
    };
    readonly Option<string> impl = CommonOptions.Impl(
        "The backward: torch (libtorch's autograd) or hand (the delta recursion and softmax cross-entropy as custom autograd Functions)",
        Impl.Torch,
        Impl.Hand
    );

    /// <summary>The old name of --impl here: refused with the new spelling named.</summary>
    readonly Option<string?> backward = new("--backward") { Hidden = true };
    readonly Option<string> data = CommonOptions.Data();
    readonly Option<long> seed = CommonOptions.Seed();
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<string> outDir = CommonOptions.Out("out/fashion-mnist");
    readonly Option<int?> threads = CommonOptions.Threads();
    readonly Option<string?> tensorboard = CommonOptions.TensorBoard();

    public FashionMnistCommandOptions()
    {
        optimizer.AcceptOnlyFromAmong("gd", "sgd", "adam");
        activation.AcceptOnlyFromAmong("sigmoid", "relu", "tanh");
        dataset.AcceptOnlyFromAmong("fashion-mnist", "mnist");
        backward.Validators.Add(result =>
            result.AddError(
                $"--backward is now --impl (one word per idea in every command): --impl torch (was autograd) or --impl hand"
            )
        );
    }

    public IEnumerable<Symbol> Symbols =>
        [
            optimizer,
            activation,
            train,
            test,
            batchSize,
            epochs,
            lr,
            hidden,
            dataset,
            download,
            impl,
            backward,
            data,
            seed,
            format,
            outDir,
            threads,
            resume,
            tensorboard,
        ];

    /// <summary>The lab's options, validated (threads applied).</summary>
    public (FashionMnistOptions Options, bool Json) Bind(ParseResult p)
    {
        CommonOptions.Setup(p.GetValue(threads), "cpu");
        var o = new FashionMnistOptions
        {
            DataDir = p.GetValue(data)!,
            Dataset = p.GetValue(dataset)!,
            Optimizers = p.GetValue(optimizer) is string one ? [one] : ["gd", "sgd", "adam"],
            Activation = p.GetValue(activation)!,
            Train = p.GetValue(train),
            Test = p.GetValue(test),
            BatchSize = p.GetValue(batchSize),
            Epochs = p.GetValue(epochs),
            LearningRate = p.GetValue(lr),
            Hidden = p.GetValue(hidden),
            Seed = p.GetValue(seed),
            Download = p.GetValue(download),
            OutDir = p.GetValue(outDir),
            Resume = p.GetValue(resume),
            Impl = p.GetValue(impl)!,
            TensorBoardDir = p.GetValue(tensorboard),
        };
        o.Validate();
        return (o, p.GetValue(format) == "json");
    }
}
