namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs fashion-mnist`: notes 002's exercise with GD, SGD and Adam.</summary>
public static class FashionMnistCommand
{
    public static Command Create()
    {
        var options = new FashionMnistCommandOptions();
        var cmd = new Command(
            "fashion-mnist",
            "Notes 002's exercise: MLP [784, 28, 10] on Fashion-MNIST with GD, SGD and Adam, Microsoft.ML metrics and curves"
        );
        cmd.With(options.Symbols);
        CommonOptions.RegisterBinder(cmd, p => options.Bind(p));
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var (o, json) = options.Bind(p);
                if (o.Download)
                    FashionMnistLab.Find(o);
                // torchinfo's summary of the MLP for one batch, once the data is read (stderr in text mode: stdout
                // keeps the lab's output).
                if (!json)
                    o = o with { OnTrainingStart = s => Console.Error.WriteLine(s.ToText()) };
                var summary = FashionMnistLab.Summary(o);
                var r = StatusLine.Around(status => FashionMnistLab.Run(o, status));
                if (json)
                    Json.Print(FashionMnistLab.ToJson(o, summary, r));
                else
                    SectionCommand.PrintBlocks("Fashion-MNIST", FashionMnistLab.Blocks(r, o).ToList(), o.OutDir!);
                return Outcome.Ok;
            })
        );
        return cmd;
    }
}
