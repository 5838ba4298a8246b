using Spectre.Console;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs info`: versions, backend, CUDA, threads.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var format = CommonOptions.Format();
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var cmd = new Command(
            "info",
            "TorchSharp and libtorch versions, backend, whether CUDA is available, thread count, and the C allocator under libtorch (TORCHLABS_ALLOCATOR: auto, system, tcmalloc, jemalloc, mimalloc or a path)"
        )
        {
            format,
            threads,
            device,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(p.GetValue(threads), p.GetValue(device)!);
                var info = TorchRuntime.Describe();
                if (p.GetValue(format) == "json")
                {
                    Json.Print(info);
                    return Outcome.Ok;
                }
                var table = new Table().AddColumn("key").AddColumn("value");
                foreach (var (k, v) in InfoLab.RuntimeRows(info).Concat(MachineInfo.Rows()))
                    table.AddRow(Markup.Escape(k), Markup.Escape(v));
                Consoles.Out.Write(table);
                return Outcome.Ok;
            })
        );
        return cmd;
    }
}
