using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs histograms`: notes Q4's per-layer activation histograms.</summary>
public static class HistogramsCommand
{
    public static Command Create()
    {
        var activation = new Option<string?>("--activation")
        {
            Description = "sigmoid, relu or tanh (default: all three)",
        };
        activation.AcceptOnlyFromAmong(HistogramsLab.ActivationNames);
        var init = new Option<string?>("--init")
        {
            Description = "zero, normal-1, normal-0.01, xavier or he (default: all five)",
        };
        init.AcceptOnlyFromAmong(HistogramsLab.InitNames);
        var seed = CommonOptions.Seed();
        var format = CommonOptions.Format();
        var outDir = CommonOptions.Out("out/histograms");
        var threads = CommonOptions.Threads();
        var cmd = new Command(
            "histograms",
            "Activation histograms of a 5-layer, 100-unit net fed N(0,1) inputs, per activation and weight initialisation (notes Q4)"
        )
        {
            activation,
            init,
            seed,
            format,
            outDir,
            threads,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(p.GetValue(threads), "cpu");
                string[] acts = p.GetValue(activation) is string a ? [a] : HistogramsLab.ActivationNames;
                string[] inits = p.GetValue(init) is string i ? [i] : HistogramsLab.InitNames;
                var runs = acts.SelectMany(act => inits.Select(ini => HistogramsLab.Run(act, ini, p.GetValue(seed))))
                    .ToList();
                if (p.GetValue(format) == "json")
                {
                    Json.Print(new { runs }); // the records, camelCased: activation, init, layers
                    return Outcome.Ok;
                }
                string dir = p.GetValue(outDir)!;
                SectionCommand.PrintBlocks(
                    "Activation histograms",
                    runs.SelectMany(r => (Block[])[HistogramsLab.StatsTable(r), HistogramsLab.Plot(r)]).ToList(),
                    dir
                );
                return Outcome.Ok;
            })
        );
        return cmd;
    }
}
