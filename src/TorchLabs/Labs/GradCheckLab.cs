using System.Globalization;
using TorchLabs.Functions;
using TorchLabs.Gradients;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>The gradient-check section: every network's table, and the activation figures.</summary>
public sealed class GradCheckLab()
    : ReportLab(
        "gradcheck",
        "Hand derivations checked against libtorch autograd",
        "Hand-derived gradients of the notes networks against autograd and central differences"
    )
{
    static string E(double v) => double.IsNaN(v) ? "–" : v.ToString("0.0E+0", CultureInfo.InvariantCulture);

    public static Table ResultTable(NetworkCheckResult r) =>
        new(
            [
                "tensor",
                "shape",
                "max abs error",
                "relative error vs autograd",
                "relative error vs central differences",
                "pass",
            ],
            r.Entries.Select(e =>
                    (IReadOnlyList<string>)
                        [
                            $"`{e.Name}`",
                            e.Shape.Length == 0 ? "scalar" : string.Join("×", e.Shape),
                            E(e.MaxAbsError),
                            E(e.RelError),
                            e.Numeric is null
                                ? "skipped" + (e.NumericNote is null ? "" : $" ({e.NumericNote})")
                                : E(e.NumericRelError),
                            e.Pass ? "pass" : "**FAIL**",
                        ]
                )
                .ToList(),
            r.Network + (double.IsNaN(r.Loss) ? "" : $" (L = {r.Loss.ToString("G10", CultureInfo.InvariantCulture)})")
        );

    /// <summary>The hand-backward Functions' verdicts (report and `gradcheck functions`).</summary>
    public static Table FunctionsTable(IReadOnlyList<HandFunctionCheck> functions) =>
        new(
            [
                "function",
                "notes derivation",
                "gradcheck max abs error",
                "gradgradcheck max abs error",
                "max |hand − autograd|",
                "pass",
            ],
            functions
                .Select(f =>
                    (IReadOnlyList<string>)
                        [
                            f.Name,
                            f.Source,
                            E(f.GradCheckMaxAbsError),
                            E(f.GradGradMaxAbsError),
                            E(f.MaxAbsVsAutograd),
                            f.Pass ? "pass" : "**FAIL** " + f.Failure,
                        ]
                )
                .ToList(),
            "Hand backward as autograd Functions"
        );

    /// <summary>libtorch's ops under GradCheck (report and `gradcheck ops`).</summary>
    public static Table OpsTable(IReadOnlyList<OpCheck> ops) =>
        new(
            ["op", "category", "input shapes", "max abs error", "max relative error", "pass", "note"],
            ops.Select(o =>
                    (IReadOnlyList<string>)
                        [
                            $"`{o.Name}`",
                            o.Category,
                            o.Shapes,
                            E(o.MaxAbsError),
                            E(o.MaxRelError),
                            o.Pass ? "pass" : "**FAIL**",
                            o.Failure ?? o.Note ?? "",
                        ]
                )
                .ToList(),
            "libtorch's gradients, operation by operation (GradCheck: eps 1e-6, atol 1e-5, rtol 1e-3, float64)"
        );

    /// <summary>How the network tables are judged, one sentence (report and `gradcheck NETWORK`).</summary>
    public static string Tolerances =>
        $"Tolerances: autograd {HandVsAutograd.AutogradTolerance:0E+0}, central differences {HandVsAutograd.NumericTolerance:0E+0} (h = {HandVsAutograd.Step:0E+0}); relative error is {HandVsAutograd.RelErrorFormula}.";

    static string FunctionsIntro =>
        $"The same derivations as custom autograd Functions (Functions/, TorchSharp's SingleTensorFunction with save_for_backward): the backward is the hand formula, one line per equation. Each is checked by GradCheck (PyTorch's algorithm and defaults: central differences with eps 1e-6, |analytical − numerical| ≤ 1e-5 + 1e-3·|numerical|), by GradGradCheck (second derivatives through the hand backward), and against libtorch's own composition of the same forward (Jacobians equal to {HandFunctionCheck.AutogradTolerance:0E+0}).";

    static string OpsIntro(IReadOnlyList<OpCheck> ops, long seed) =>
        $"libtorch's own gradients: GradCheck on {ops.Count} TorchSharp operations in float64 with random inputs (seed {seed}). {ops.Count(o => o.Pass)} of {ops.Count} pass; the largest absolute error is {E(ops.Max(o => o.MaxAbsError))}. Inputs of ops with kinks are nudged {OpsCatalogue.KinkGap:0E+0} away from them, and ops with ties (max, pooling) or equal pairs (L1-type losses) get inputs that avoid them; the note says which. Max relative error is {HandVsAutograd.RelErrorFormula} per Jacobian block (a analytical, b numerical).";

    public override ReportSection Run(LabContext context)
    {
        var blocks = new List<Block>
        {
            new Paragraph(
                $"Each derivative of the course notes, written as a matrix formula (Gradients/, one line per equation), computed three ways in float64: by hand, by libtorch autograd, and by central differences (h = {HandVsAutograd.Step:0E+0}). Relative error is {HandVsAutograd.RelErrorFormula}. Pass: at most {HandVsAutograd.AutogradTolerance:0E+0} against autograd and {HandVsAutograd.NumericTolerance:0E+0} against central differences. Central differences are skipped where a ReLU input or a max-pool tie lies within 2h, since there they straddle a kink."
            ),
        };
        var results = Networks(context);
        blocks.Add(SummaryTable(results));
        foreach (var r in results)
        {
            blocks.Add(ResultTable(r));
            foreach (string note in r.Notes)
                blocks.Add(new Paragraph(note));
        }
        context.Report("hand-backward Functions");
        var functions = HandFunctions.Run(context.Seed);
        blocks.AddRange([new Paragraph(FunctionsIntro), FunctionsTable(functions)]);
        context.Report("libtorch operations");
        var ops = OpsCatalogue.Run(context.Seed);
        blocks.AddRange([new Paragraph(OpsIntro(ops, context.Seed)), OpsTable(ops)]);
        blocks.AddRange(ActivationFigures());
        bool pass = results.All(r => r.Pass) && functions.All(f => f.Pass) && ops.All(o => o.Pass);
        return new ReportSection(Id, Title, pass ? SectionStatus.Ran : SectionStatus.Failed, blocks, TimeSpan.Zero)
        {
            KeyNumber =
                $"hand vs autograd ≤ {E(results.Max(r => r.MaxRelError))} relative; {functions.Count(f => f.Pass)}/{functions.Count} hand Functions and {ops.Count(o => o.Pass)}/{ops.Count} libtorch ops pass gradcheck",
        };
    }

    /// <summary>Every network's check; dropout-concat on three random cases.</summary>
    static List<NetworkCheckResult> Networks(LabContext context)
    {
        var results = new List<NetworkCheckResult>();
        var o = new NetworkCheckOptions { Seed = context.Seed };
        foreach (string name in GradCheckNetworks.Names)
        {
            context.Report(name);
            var rs =
                name == "dropout-concat"
                    ? Enumerable
                        .Range(0, 3)
                        .SelectMany(i =>
                            GradCheckNetworks
                                .Run(name, o with { Seed = context.Seed + i })
                                .Select(r => r with { Network = $"{r.Network} (random case, seed {context.Seed + i})" })
                        )
                        .ToList()
                    : GradCheckNetworks.Run(name, o);
            results.AddRange(rs);
        }
        return results;
    }

    /// <summary>One row per network: its tensors' largest errors and the verdict.</summary>
    static Table SummaryTable(List<NetworkCheckResult> results) =>
        new Table(
            [
                "network",
                "tensors",
                "max relative error vs autograd",
                "max relative error vs central differences",
                "pass",
            ],
            results
                .Select(r =>
                    (IReadOnlyList<string>)
                        [
                            r.Network,
                            r.Entries.Count.ToString(),
                            E(r.MaxRelError),
                            E(r.MaxNumericRelError),
                            r.Pass ? "pass" : "**FAIL**",
                        ]
                )
                .ToList(),
            "Summary"
        );

    static IEnumerable<Block> ActivationFigures()
    {
        double[] x = Enumerable.Range(-400, 801).Select(i => i / 100.0).ToArray();
        Figure Plot(string title, string yLabel, Func<Activation, Func<double, double>> f, string name, string caption)
        {
            var curves = Activations.All.Select(a => (a.Name, x, x.Select(f(a)).ToArray()));
            return Figures.Of(Plots.Curves(title, "x", yLabel, curves), name, caption);
        }
        yield return Plot(
            "The eight activations",
            "f(x)",
            a => a.F,
            "activations",
            "sigmoid, tanh, ReLU, LeakyReLU (0.01), ELU (α = 1), softplus, swish, GELU (exact)"
        );
        yield return Plot(
            "Their derivatives (hand formulas)",
            "f′(x)",
            a => a.Derivative,
            "activation-derivatives",
            "The hand derivatives, each checked against autograd on a grid that contains the kink at 0"
        );
    }
}
