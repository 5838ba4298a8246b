namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs vanishing`: per-layer gradient norms of deep sigmoid, ReLU and residual stacks, and training
/// curves.</summary>
public static class VanishingCommand
{
    public static Command Create()
    {
        var options = new VanishingCommandOptions();
        var cmd = new Command(
            "vanishing",
            "Vanishing gradients: per-layer gradient norms and training of deep sigmoid, ReLU and residual stacks"
        ).With(options.Symbols);
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var (o, json, outDir) = options.Bind(p);
                // torchinfo's summary of the deepest stack, one sample, before training (stderr in text mode).
                var summary = VanishingLab.Summary(o);
                if (!json)
                    Console.Error.WriteLine(summary.ToText());
                var r = StatusLine.Around(status => VanishingLab.Run(o, status));
                if (json)
                    Json.Print(VanishingLab.ToJson(summary, r));
                else
                    SectionCommand.PrintBlocks("Vanishing gradients", VanishingLab.Blocks(r).ToList(), outDir);
                return Outcome.Ok;
            })
        );
        return cmd;
    }
}
