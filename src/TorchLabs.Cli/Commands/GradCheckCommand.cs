using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TorchLabs.Gradients;
using TorchLabs.Functions;
using TorchLabs.Labs;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs gradcheck NETWORK`: hand derivations against libtorch autograd and central differences.</summary>
public static class GradCheckCommand
{
    public static Command Create()
    {
        var network = new Argument<string>("NETWORK")
        {
            Description = string.Join(", ", GradCheckNetworks.Names)
            + ", or all; ops (libtorch's own gradients, GradCheck over " +
            $"{OpsCatalogue.All.Length} operations); functions (the hand-backward autograd Functions: gradcheck, gradgradcheck, vs " +
                $"autograd)"
        };
        var op = new Option<string[]>("--op")
        {
            Description = "ops: check only these operations (names as in the table)",
            AllowMultipleArgumentsPerToken = true
        };
        var caseFile = new Option<string?>("--case")
        {
            Description = "dropout-concat: a JSON object with x, y, W1, b1, W2, b2, m " +
            "(default: a seeded random case)"
        };
        var d = new Option<int>("--d") { Description = "dropout-concat: input size d", DefaultValueFactory = _ => 4 };
        var s = new Option<int>("--s") { Description = "dropout-concat: hidden size s", DefaultValueFactory = _ => 5 };
        var k = new Option<int>("--k") { Description = "dropout-concat: number of classes k", DefaultValueFactory = _ => 3 };
        var sizes = new Option<string?>("--sizes") { Description = "mlp-l2, chain-dydx, vector-backprop: layer sizes, e.g. 4,6,5,3" };
        var activation = new Option<string>("--activation")
        {
            Description = "mlp-l2, chain-dydx: sigmoid or tanh",
            DefaultValueFactory = _ => "sigmoid"
        };
        activation.AcceptOnlyFromAmong("sigmoid", "tanh");
        var m = new Option<int>("--m") { Description = "vector-backprop: number of examples", DefaultValueFactory = _ => 10 };
        var lambd = new Option<double>("--lambd") { Description = "vector-backprop: L2 strength λ", DefaultValueFactory = _ => 0.7 };
        var bias = new Option<string?>("--bias") { Description = "small-cnn: untied (the seed's) or tied (PyTorch's); default both" };
        bias.AcceptOnlyFromAmong("untied", "tied");
        var seed = CommonOptions.Seed();
        var format = CommonOptions.Format();
        var threads = CommonOptions.Threads();
        var cmd = new Command("gradcheck",
            "Hand-derived gradients against libtorch autograd and central differences, in float64, tensor by tensor")
            { network, caseFile, d, s, k, sizes, activation, m, lambd, bias, op, seed, format, threads };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            CommonOptions.Setup(p.GetValue(threads), "cpu");
            string name = p.GetValue(network)!;
            bool json = p.GetValue(format) == "json";
            if (name == "ops") return Ops(p.GetValue(seed), p.GetValue(op), json);
            if (name == "functions") return Functions(p.GetValue(seed), json);
            if (p.GetValue(op) is { Length: > 0 }) throw new UsageException($"--op: only `gradcheck ops` reads it, not {name}");
            var o = new NetworkCheckOptions
            {
                Seed = p.GetValue(seed), CaseFile = p.GetValue(caseFile), D = p.GetValue(d), S = p.GetValue(s), K = p.GetValue(k),
                Sizes = p.GetValue(sizes) is string text ? CommonOptions.ParseSizes(text) : null, Activation = p.GetValue(activation)!,
                M = p.GetValue(m), Lambd = p.GetValue(lambd), Bias = p.GetValue(bias),
            };
            if (o.CaseFile is not null
                && name != "dropout-concat") throw new UsageException($"--case: only the dropout-concat network reads a case file, not " +
                $"{name}");
            string[] names = name == "all" ? GradCheckNetworks.Names : [name];
            var results = names.SelectMany(n => GradCheckNetworks.Run(n, o)).ToList();
            if (p.GetValue(format) == "json")
            {
                if (results.Count == 1) Json.Print(GradCheckNetworks.ToJson(results[0]));
                else Json.Print(new { network = name, results = results.Select(GradCheckNetworks.ToJson) });
            }
            else
            {
                foreach (var r in results)
                {
                    ConsoleTables.Write(GradCheckLab.ResultTable(r));
                    foreach (string note in r.Notes) Console.Out.WriteLine(note);
                }
                Console.Out.WriteLine(GradCheckLab.Tolerances);
            }
            if (results.All(r => r.Pass)) return Outcome.Ok;
            Console.Error.WriteLine($"torchlabs: gradient check failed for " +
                $"{string.Join(", ", results.Where(r => !r.Pass).Select(r => r.Network))}");
            return Outcome.Failed;
        }));
        return cmd;
    }

    static int Ops(long seed, string[]? only, bool json)
    {
        var results = StatusLine.Around(status => OpsCatalogue.Run(seed, only is { Length: > 0 } ? only : null, status));
        if (json) Json.Print(OpsCatalogue.ToJson(results));
        else ConsoleTables.Write(GradCheckLab.OpsTable(results));
        if (results.All(r => r.Pass)) return Outcome.Ok;
        Console.Error.WriteLine($"torchlabs: gradcheck failed for {string.Join(", ", results.Where(r => !r.Pass).Select(r => r.Name))}");
        return Outcome.Failed;
    }

    static int Functions(long seed, bool json)
    {
        var results = HandFunctions.Run(seed);
        if (json)
            Json.Print(new
            {
                functions = results.Select(r => new
                {
                    name = r.Name, source = r.Source, gradcheckMaxAbsError = r.GradCheckMaxAbsError, gradcheck = r.GradCheckPass,
                    gradgradcheckMaxAbsError = r.GradGradMaxAbsError, gradgradcheck = r.GradGradPass,
                    maxAbsErrorVsAutograd = r.MaxAbsVsAutograd, pass = r.Pass, failure = r.Failure,
                }),
            });
        else ConsoleTables.Write(GradCheckLab.FunctionsTable(results));
        return results.All(r => r.Pass) ? Outcome.Ok : Outcome.Failed;
    }
}
