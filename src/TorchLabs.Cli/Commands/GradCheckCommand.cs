using TorchLabs.Gradients;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs gradcheck NETWORK`: hand derivations against libtorch autograd and central
/// differences.</summary>
public static class GradCheckCommand
{
    public static Command Create()
    {
        var options = new GradCheckCommandOptions();
        var cmd = new Command(
            "gradcheck",
            "Hand-derived gradients against libtorch autograd and central differences, in float64, tensor by tensor"
        ).With(options.Symbols);
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var r = options.Bind(p);
                return r.Network switch
                {
                    "ops" => Ops(r.Options.Seed, r.Ops, r.Json),
                    "functions" => Functions(r.Options.Seed, r.Json),
                    _ => Networks(r.Network, r.Options, r.Json),
                };
            })
        );
        return cmd;
    }

    static int Networks(string name, NetworkCheckOptions o, bool json)
    {
        var results = (name == "all" ? GradCheckNetworks.Names : [name])
            .SelectMany(n => GradCheckNetworks.Run(n, o))
            .ToList();
        if (json && results.Count == 1)
            Json.Print(GradCheckNetworks.ToJson(results[0]));
        else if (json)
            Json.Print(new { network = name, results = results.Select(GradCheckNetworks.ToJson) });
        else
        {
            foreach (var r in results)
            {
                ConsoleTables.Write(GradCheckLab.ResultTable(r));
                foreach (string note in r.Notes)
                    Console.Out.WriteLine(note);
            }
            Console.Out.WriteLine(GradCheckLab.Tolerances);
        }
        if (results.All(r => r.Pass))
            return Outcome.Ok;
        Console.Error.WriteLine(
            $"torchlabs: gradient check failed for {string.Join(", ", results.Where(r => !r.Pass).Select(r => r.Network))}"
        );
        return Outcome.Failed;
    }

    static int Ops(long seed, string[]? only, bool json)
    {
        var results = StatusLine.Around(status =>
            OpsCatalogue.Run(seed, only is { Length: > 0 } ? only : null, status)
        );
        if (json)
            Json.Print(OpsCatalogue.ToJson(results));
        else
            ConsoleTables.Write(GradCheckLab.OpsTable(results));
        if (results.All(r => r.Pass))
            return Outcome.Ok;
        Console.Error.WriteLine(
            $"torchlabs: gradcheck failed for {string.Join(", ", results.Where(r => !r.Pass).Select(r => r.Name))}"
        );
        return Outcome.Failed;
    }

    static int Functions(long seed, bool json)
    {
        var results = HandFunctions.Run(seed);
        if (json)
            Json.Print(new { functions = results }); // the records, camelCased, with pass
        else
            ConsoleTables.Write(GradCheckLab.FunctionsTable(results));
        return results.All(r => r.Pass) ? Outcome.Ok : Outcome.Failed;
    }
}
