using Spectre.Console;
using TorchLabs.Data;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs cifar10`: the PyTorch CIFAR-10 tutorial, its lines, model and figures.</summary>
public static class Cifar10Command
{
    public static Command Create()
    {
        var options = new Cifar10CommandOptions();
        var cmd = new Command(
            "cifar10",
            "PyTorch's CIFAR-10 tutorial in C#: train the tutorial's Net (or --load one), print its log and accuracy lines, save the model (cifar_net.pth, .safetensors, .dat) and figures"
        );
        cmd.With(options.Symbols);
        CommonOptions.RegisterBinder(cmd, p => options.Bind(p));
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var (o, download, json, threadsGiven) = options.Bind(p);
                if (download && Cifar10.Locate(o.DataDir) is null)
                    Download(o.DataDir);
                // torchinfo's summary of the Net for one batch, printed as training starts (stderr: stdout keeps the
                // tutorial's lines).
                if (!json)
                    o = o with { OnTrainingStart = s => Console.Error.WriteLine(s.ToText()) };
                var status = new StatusLine(json ? Console.Error : Console.Out);
                var r = Cifar10Lab.Run(o, status.Log, status);
                status.Clear();
                Print(o, r, Figures.Write(r.Figures, o.OutDir), json, threadsGiven);
                return Outcome.Ok;
            })
        );
        return cmd;
    }

    static void Print(Cifar10Options o, Cifar10Result r, IEnumerable<string> figures, bool json, bool threadsGiven)
    {
        Console.Error.WriteLine(
            $"data: {r.TrainImages} training and {r.Total} test images from {Printable.Path(r.Folder)}"
        );
        if (json)
        {
            Json.Print(Cifar10Lab.ToJson(o, r));
            return;
        }
        Console.Error.WriteLine(
            $"threads: {TorchSharp.torch.get_num_threads()} ({(threadsGiven ? "--threads" : TorchRuntime.ThreadRule)})"
                + (o.Load is null ? $"; step: --impl {o.Impl}" : "")
        );
        Console.Error.WriteLine(
            $"model: {Printable.Path(Path.GetFullPath(r.ModelPath))}"
                + (r.PthPath is null ? "" : $" and {Printable.Path(Path.GetFullPath(r.PthPath))} (PyTorch)")
                + $"; figures: {string.Join(", ", figures.Select(Printable.Path))}"
        );
        if (o.TensorBoardDir is not null)
            Console.Error.WriteLine(
                $"TensorBoard: tensorboard --logdir {Printable.Path(Path.GetFullPath(o.TensorBoardDir))}"
            );
    }

    static void Download(string dataDir)
    {
        if (Console.IsErrorRedirected)
        {
            var log = new PlainProgress(Console.Error); // a log: a plain line every ten seconds, no redrawn bar
            log.Stage("CIFAR-10", "downloading");
            Downloader.FetchCifar10(
                dataDir,
                new SyncProgress<DownloadProgress>(d =>
                    log.Report($"{d.Received / 1e6:F1} MB" + (d.Total is long t ? $" of {t / 1e6:F1} MB" : ""))
                )
            );
            log.Stage("CIFAR-10", "downloaded");
            return;
        }
        Consoles
            .Err.Progress()
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn()
            )
            .Start(ctx =>
            {
                var task = ctx.AddTask("CIFAR-10", maxValue: 170_498_071);
                Downloader.FetchCifar10(
                    dataDir,
                    new SyncProgress<DownloadProgress>(d =>
                    {
                        if (d.Total is long t)
                            task.MaxValue = t;
                        task.Value = d.Received;
                    })
                );
            });
    }
}
