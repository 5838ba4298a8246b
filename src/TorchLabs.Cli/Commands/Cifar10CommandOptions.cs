using TorchLabs.Data;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs cifar10`'s options, bound into <see cref="Cifar10Options"/>.</summary>
sealed class Cifar10CommandOptions
{
    readonly Option<string> data = CommonOptions.Data();
    readonly Option<bool> download = new("--download")
    {
        Description = $"Download CIFAR-10 ({Cifar10.Url}, MD5-checked) into --data first, if it is not there",
    };
    readonly Option<int> epochs = new("--epochs")
    {
        Description = "Passes over the training set",
        DefaultValueFactory = _ => 2,
    };
    readonly Option<int> batchSize = new("--batch-size")
    {
        Description = "Mini-batch size",
        DefaultValueFactory = _ => 4,
    };
    readonly Option<double> lr = new("--lr") { Description = "SGD learning rate", DefaultValueFactory = _ => 0.001 };
    readonly Option<double> momentum = new("--momentum")
    {
        Description = "SGD momentum",
        DefaultValueFactory = _ => 0.9,
    };
    readonly Option<long> seed = CommonOptions.Seed(
        "As torch.manual_seed(S) in the tutorial's script: its initial weights and batches, bit for bit (docs/cifar10.md)"
    );
    readonly Option<int> logEvery = new("--log-every")
    {
        Description = "Print the running loss every N mini-batches",
        DefaultValueFactory = _ => 2000,
    };
    readonly Option<int?> threads = CommonOptions.Threads();
    readonly Option<string> device = CommonOptions.Device();
    readonly Option<string> outDir = CommonOptions.Out("out/cifar10");
    readonly Option<int?> limitTrain = new("--limit-train")
    {
        Description = "Use only the first N training images (quick runs)",
    };
    readonly Option<int?> limitTest = new("--limit-test")
    {
        Description = "Use only the first N test images (quick runs)",
    };
    readonly Option<string> format = CommonOptions.Format();
    readonly Option<string?> tensorboard = CommonOptions.TensorBoard();
    readonly Option<bool> resume = new("--resume")
    {
        Description =
            "Continue from the checkpoint in --out (written after every epoch); --epochs is the total. The other settings must match the checkpoint's, except --lr, which may change (the log says so)",
    };
    readonly Option<string> impl = CommonOptions.Impl(
        "The training step: torch (the tutorial's: TorchSharp's modules, autograd and optim.SGD) or fast (the fused SGD and hand-written float32 step of src/TorchLabs/Fast, equal to float32 rounding)",
        Impl.Torch,
        Impl.Fast
    );
    readonly Option<string?> load = new("--load")
    {
        Description =
            "Evaluate this model instead of training: a .pth from the Python tutorial, a .safetensors, or TorchSharp's format (told apart by content)",
    };

    public IEnumerable<Symbol> Symbols =>
        [
            data,
            download,
            epochs,
            batchSize,
            lr,
            momentum,
            seed,
            logEvery,
            threads,
            device,
            outDir,
            limitTrain,
            limitTest,
            format,
            resume,
            load,
            impl,
            tensorboard,
        ];

    /// <summary>The lab's options, validated; threads and device applied (libtorch's threads chosen by the batch size
    /// unless given).</summary>
    public (Cifar10Options Options, bool Download, bool Json, bool ThreadsGiven) Bind(ParseResult p)
    {
        var dev = CommonOptions.Setup(
            p.GetValue(threads),
            p.GetValue(device)!,
            TorchRuntime.ThreadsForBatch(p.GetValue(batchSize))
        );
        var o = new Cifar10Options
        {
            DataDir = p.GetValue(data)!,
            OutDir = p.GetValue(outDir)!,
            Epochs = p.GetValue(epochs),
            BatchSize = p.GetValue(batchSize),
            LearningRate = p.GetValue(lr),
            Momentum = p.GetValue(momentum),
            Seed = p.GetValue(seed),
            LogEvery = p.GetValue(logEvery),
            LimitTrain = p.GetValue(limitTrain),
            LimitTest = p.GetValue(limitTest),
            Device = dev,
            Resume = p.GetValue(resume),
            Load = p.GetValue(load),
            Impl = p.GetValue(impl)!,
            TensorBoardDir = p.GetValue(tensorboard),
        };
        o.Validate();
        return (o, p.GetValue(download), p.GetValue(format) == "json", p.GetValue(threads) is not null);
    }
}
