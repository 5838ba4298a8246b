using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TorchLabs.Gradients;
using TorchLabs.Gradients.Functions;
using TorchLabs.Runtime;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs gradcheck NETWORK`: hand derivations against libtorch autograd and central differences.</summary>
public static class GradCheckCommand
{
    public static Command Create()
    {
        var network = new Argument<string>("NETWORK") { Description = string.Join(", ", GradCheckNetworks.Names) + ", or all; ops (libtorch's own gradients, GradCheck over " +
            $"{OpsCatalogue.All.Length} operations); functions (the hand-backward autograd Functions: gradcheck, gradgradcheck, vs autograd)" };
        var op = new Option<string[]>("--op") { Description = "ops: check only these operations (names as in the table)", AllowMultipleArgumentsPerToken = true };
        var caseFile = new Option<string?>("--case") { Description = "dropout-concat: a JSON object with x, y, W1, b1, W2, b2, m (default: a seeded random case)" };
        var d = new Option<int>("--d") { Description = "dropout-concat: input size d", DefaultValueFactory = _ => 4 };
        var s = new Option<int>("--s") { Description = "dropout-concat: hidden size s", DefaultValueFactory = _ => 5 };
        var k = new Option<int>("--k") { Description = "dropout-concat: number of classes k", DefaultValueFactory = _ => 3 };
        var sizes = new Option<string?>("--sizes") { Description = "mlp-l2, chain-dydx, vector-backprop: layer sizes, e.g. 4,6,5,3" };
        var activation = new Option<string>("--activation") { Description = "mlp-l2, chain-dydx: sigmoid or tanh", DefaultValueFactory = _ => "sigmoid" };
        activation.AcceptOnlyFromAmong("sigmoid", "tanh");
        var m = new Option<int>("--m") { Description = "vector-backprop: number of examples", DefaultValueFactory = _ => 10 };
        var lambd = new Option<double>("--lambd") { Description = "vector-backprop: L2 strength λ", DefaultValueFactory = _ => 0.7 };
        var bias = new Option<string?>("--bias") { Description = "small-cnn: untied (the seed's) or tied (PyTorch's); default both" };
        bias.AcceptOnlyFromAmong("untied", "tied");
        var seed = CommonOptions.Seed();
        var format = CommonOptions.Format();
        var threads = CommonOptions.Threads();
        var cmd = new Command("gradcheck", "Hand-derived gradients against libtorch autograd and central differences, in float64, tensor by tensor")
            { network, caseFile, d, s, k, sizes, activation, m, lambd, bias, op, seed, format, threads };
        cmd.SetAction(p => Cli.Guard(() =>
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
                Sizes = p.GetValue(sizes) is string text ? ParseSizes(text) : null, Activation = p.GetValue(activation)!,
                M = p.GetValue(m), Lambd = p.GetValue(lambd), Bias = p.GetValue(bias),
            };
            if (o.CaseFile is not null && name != "dropout-concat") throw new UsageException($"--case: only the dropout-concat network reads a case file, not {name}");
            string[] names = name == "all" ? GradCheckNetworks.Names : [name];
            var results = names.SelectMany(n => GradCheckNetworks.Run(n, o)).ToList();
            if (p.GetValue(format) == "json")
            {
                if (results.Count == 1) Json.Print(GradCheckNetworks.ToJson(results[0]));
                else Json.Print(new { network = name, results = results.Select(GradCheckNetworks.ToJson) });
            }
            else
            {
                foreach (var r in results) Consoles.Out.Write(Render(r));
            }
            if (results.All(r => r.Pass)) return Cli.Ok;
            Console.Error.WriteLine($"torchlabs: gradient check failed for {string.Join(", ", results.Where(r => !r.Pass).Select(r => r.Network))}");
            return Cli.Failed;
        }));
        return cmd;
    }

    static int Ops(long seed, string[]? only, bool json)
    {
        if (only is { Length: > 0 })
            foreach (string n in only)
                if (!OpsCatalogue.All.Any(o => o.Name == n))
                    throw new UsageException($"--op {n}: unknown operation; expected one of {string.Join(", ", OpsCatalogue.All.Select(o => o.Name))}");
        var status = new StatusLine(Console.Error);
        var results = OpsCatalogue.Run(seed, only is { Length: > 0 } ? only : null, status);
        status.Clear();
        if (json) Json.Print(OpsCatalogue.ToJson(results));
        else
        {
            var table = new Table().Title($"libtorch's gradients: GradCheck (eps 1e-6, atol 1e-5, rtol 1e-3) on {results.Count} operations in float64, seed {seed}")
                .AddColumns("op", "category", "input shapes", "max abs err", "max rel err", "pass", "note");
            foreach (var r in results)
                table.AddRow(Markup.Escape(r.Name), r.Category, Markup.Escape(r.Shapes), E(r.MaxAbsError), E(r.MaxRelError), r.Pass ? "[green]pass[/]" : "[red]FAIL[/]",
                    Markup.Escape(r.Failure ?? r.Note ?? ""));
            Consoles.Out.Write(table);
        }
        if (results.All(r => r.Pass)) return Cli.Ok;
        Console.Error.WriteLine($"torchlabs: gradcheck failed for {string.Join(", ", results.Where(r => !r.Pass).Select(r => r.Name))}");
        return Cli.Failed;
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
                    gradgradcheckMaxAbsError = r.GradGradMaxAbsError, gradgradcheck = r.GradGradPass, maxAbsErrorVsAutograd = r.MaxAbsVsAutograd, pass = r.Pass, failure = r.Failure,
                }),
            });
        else
        {
            var table = new Table().Title("Hand backward as autograd Functions: GradCheck, GradGradCheck, and the Jacobian against libtorch's own ops")
                .AddColumns("function", "seed derivation", "gradcheck max abs err", "gradgradcheck max abs err", "max |hand − autograd|", "pass");
            foreach (var r in results)
                table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Source), E(r.GradCheckMaxAbsError), E(r.GradGradMaxAbsError), E(r.MaxAbsVsAutograd),
                    r.Pass ? "[green]pass[/]" : "[red]FAIL[/] " + Markup.Escape(r.Failure ?? ""));
            Consoles.Out.Write(table);
        }
        return results.All(r => r.Pass) ? Cli.Ok : Cli.Failed;
    }

    static string E(double v) => double.IsNaN(v) ? "–" : v.ToString("0.0E+0", CultureInfo.InvariantCulture);

    static Spectre.Console.Rendering.IRenderable Render(NetworkCheckResult r)
    {
        var table = new Table().Title(Markup.Escape($"{r.Network}" + (double.IsNaN(r.Loss) ? "" : $"   L = {r.Loss.ToString("G10", CultureInfo.InvariantCulture)}")))
            .AddColumns("tensor", "shape", "max abs err", "rel err vs autograd", "rel err vs central diff", "pass");
        foreach (var e in r.Entries)
            table.AddRow(Markup.Escape(e.Name), Markup.Escape(e.Shape.Length == 0 ? "scalar" : string.Join("×", e.Shape)), E(e.MaxAbsError), E(e.RelError),
                e.Numeric is null ? "skipped" : E(e.NumericRelError), e.Pass ? "[green]pass[/]" : "[red]FAIL[/]");
        table.Caption(Markup.Escape(string.Join(" ", r.Notes) + $" Tolerances: autograd {GradientCheck.AutogradTolerance:0E+0}, central differences {GradientCheck.NumericTolerance:0E+0} (h = {GradientCheck.Step:0E+0})."));
        return table;
    }

    /// <summary>Parses a comma-separated list of at least <paramref name="minCount"/> positive whole numbers.</summary>
    public static int[] ParseSizes(string text, string option = "--sizes", int minCount = 2)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        if (parts.Length < minCount || parts.Select((v, i) => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out sizes[i]) && sizes[i] > 0).Any(ok => !ok))
            throw new UsageException($"{option} {text}: expected {(minCount > 1 ? $"at least {minCount}" : "one or more")} positive whole numbers separated by commas, e.g. 4,6,5,3");
        return sizes;
    }
}
