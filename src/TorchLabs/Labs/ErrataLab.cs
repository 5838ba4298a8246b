using System.Globalization;
using TorchLabs.Reference;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>One slip of a course document: where it is, what the document writes, the correction, and the numbers that
/// show it.</summary>
public sealed record Erratum(
    string Notes,
    string Place,
    string Title,
    string AsWritten,
    string Corrected,
    IReadOnlyDictionary<string, double> Numbers,
    [property: System.Text.Json.Serialization.JsonIgnore] IReadOnlyList<Block> Evidence
);

/// <summary>
/// The errata: slips of the course notes (../shared/seeds/README.md), each shown with numbers, the document's formula
/// run beside the correct one.
/// </summary>
public sealed class ErrataLab()
    : ReportLab(
        "errata",
        "Errata: the course notes' slips, in numbers",
        "Each slip of the course documents run beside the correct formula"
    )
{
    public override ReportSection Run(LabContext context)
    {
        var errata = Collect(context.Seed);
        var blocks = new List<Block>
        {
            new Paragraph(
                $"{errata.Count} slips of the course documents (../shared/seeds/README.md lists them), each run as written beside the correct formula. Notes 000/001 Q3's optimizer code runs on f(x) = x₀²/20 + x₁² from the optimizer race's start, with the analytic gradient."
            ),
        };
        foreach (var e in errata)
        {
            blocks.Add(
                new Paragraph(
                    $"**Notes {e.Notes} {e.Place}: {e.Title}.** The document: `{e.AsWritten}`. Correct: {e.Corrected}."
                )
            );
            blocks.AddRange(e.Evidence);
        }
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber = $"{errata.Count} slips, each run beside its correction",
        };
    }

    /// <summary>Every slip, with the numbers that show it (seeded where randomness enters).</summary>
    public static IReadOnlyList<Erratum> Collect(long seed) =>
        [.. OptimizerSlips(seed), .. DerivationSlips(seed), .. Notes004Slips()];

    /// <summary>The JSON of `torchlabs errata --format json`: {"errata": [{notes, place, title, asWritten, corrected,
    /// numbers}]}.</summary>
    public static object ToJson(IReadOnlyList<Erratum> errata) => new { errata }; // Evidence is the report's

    /// <summary>A slip of the notes: the code as written against the correct update, from the same start.</summary>
    public sealed record OptimizerSlip(
        string Title,
        string AsWritten,
        string Correct,
        double[][] WrittenPath,
        double[][] CorrectPath
    );

    /// <summary>Notes Q3's slips (listed in the notes' README), each run next to the correct update.</summary>
    public static IReadOnlyList<OptimizerSlip> Slips(double[] start, int steps)
    {
        double[][] RunAsWritten(Action<double[], double[]> step)
        {
            double[] x = (double[])start.Clone();
            var path = new double[steps + 1][];
            path[0] = (double[])x.Clone();
            for (int t = 1; t <= steps; t++)
            {
                step(x, OptimizersLab.GradAnalytic(x));
                path[t] = (double[])x.Clone();
            }
            return path;
        }
        double[][] Correct(string optimizer) =>
            OptimizersLab.Run(OptimizerSpec.NotesDefaults(optimizer), OptimizerImpl.Reference, start, steps).Points;
        var rmsCorrect = Correct("rmsprop");
        return
        [
            new OptimizerSlip(
                "RMSProp assigns instead of stepping",
                "x = lr*grad/(sqrt(gt)+1e-9)",
                "x -= lr*grad/(sqrt(E[g²])+ε), per coordinate",
                RunAsWritten(new NotesForms.RmsPropAsWritten(0.01).Step),
                rmsCorrect
            ),
            new OptimizerSlip(
                "RMSProp keeps one scalar accumulator",
                "gt = 0.9 gt + 0.1 Σ g² (one number), x -= lr*grad/(sqrt(gt)+1e-9)",
                "per-coordinate E[g²] (torch.optim.RMSprop, α 0.9)",
                RunAsWritten(new NotesForms.RmsPropScalar(0.01).Step),
                rmsCorrect
            ),
            new OptimizerSlip(
                "AdaGrad keeps one scalar accumulator",
                "gt += Σ g² (one number), x -= lr*grad/sqrt(gt+1e-9)",
                "per-coordinate G += g², x -= lr g/(√G + 1e-10) (torch.optim.Adagrad)",
                RunAsWritten(new NotesForms.AdaGradAsWritten(0.1).Step),
                Correct("adagrad")
            ),
            new OptimizerSlip(
                "Adam corrects the second moment with ρ₁",
                "r_hat = r/(1-rho1**(i+1))",
                "v̂ = v/(1 − β₂ᵗ) (torch.optim.Adam)",
                RunAsWritten(new NotesForms.AdamAsWritten(0.1).Step),
                Correct("adam")
            ),
        ];
    }

    /// <summary>Notes 000/001 Q3's optimizer code as written against the correct update, from the race's
    /// start.</summary>
    static IEnumerable<Erratum> OptimizerSlips(long seed)
    {
        double[] start = OptimizersLab.DrawStart(seed);
        int steps = OptimizersReportLab.NotesSteps;
        int[] shown = [1, 2, 3, 100, steps];
        foreach (var slip in Slips(start, steps))
        {
            var numbers = new Dictionary<string, double>();
            foreach (int t in shown)
            {
                numbers[$"fAsWritten{t}"] = OptimizersLab.F(slip.WrittenPath[t]);
                numbers[$"fCorrect{t}"] = OptimizersLab.F(slip.CorrectPath[t]);
            }
            var rows = shown
                .Select(t =>
                    (IReadOnlyList<string>)
                        [
                            t.ToString("N0"),
                            Pt(slip.WrittenPath[t]),
                            G(OptimizersLab.F(slip.WrittenPath[t])),
                            Pt(slip.CorrectPath[t]),
                            G(OptimizersLab.F(slip.CorrectPath[t])),
                        ]
                )
                .ToList();
            yield return new Erratum(
                "000/001",
                "Q3",
                slip.Title,
                slip.AsWritten,
                slip.Correct,
                numbers,
                [
                    new Table(
                        ["step t", "as written: x_t", "f(x_t)", "correct: x_t", "f(x_t)"],
                        rows,
                        $"from ({G(start[0])}, {G(start[1])}); numbers: f at steps {string.Join(", ", shown)}"
                    ),
                ]
            );
        }
    }

    /// <summary>Notes 004: the printed code's initialisation against the one that produced the printed costs, and
    /// predict's input.</summary>
    static IEnumerable<Erratum> Notes004Slips()
    {
        var written = VectorBackpropLab.Run(
            new VectorBackpropOptions
            {
                Init = "as-written",
                Impl = "torch",
                Iterations = 3,
                PrintEvery = 1,
            }
        );
        var he = VectorBackpropLab.Run(
            new VectorBackpropOptions
            {
                Init = "he",
                Impl = "torch",
                Iterations = 1,
            }
        );
        var w = written.Tables[0];
        yield return new Erratum(
            "004",
            "section 4",
            "the initialisation",
            "param_w[l] = np.random.randn(...) * np.sqrt(2)",
            "He initialisation, randn · √(2/n_(l−1)), which reproduces the printed costs",
            new Dictionary<string, double>
            {
                ["costAtIteration0AsWritten"] = w.Costs[0].Cost,
                ["nonFiniteFromIteration"] = w.DivergedAt ?? double.NaN,
                ["costAtIteration0He"] = he.Tables[0].Costs[0].Cost,
                ["costAtIteration0Printed"] = 0.69301356,
            },
            [
                new Paragraph(
                    $"Run as written (NumPy's generator, seed(1) then seed(10)), the cost at iteration 0 is {VectorBackpropLab.Numpy8(w.Costs[0].Cost)} and it is NaN or infinite from iteration {w.DivergedAt?.ToString() ?? "–"}. With He initialisation the cost at "
                        + $"iteration 0 is "
                        + $"{VectorBackpropLab.Numpy8(he.Tables[0].Costs[0].Cost)}, the document's printed 0.69301356, and the whole printed table follows (see the vector-backprop section)."
                ),
            ]
        );
        yield return new Erratum(
            "004",
            "predict",
            "predict's input has 1228 rows",
            "X_new = np.random.rand(1228, 200)",
            "12288 rows, the first layer's input size (np.dot(param_w[1], X_new) raises a shape error otherwise); TorchLabs draws 12288",
            new Dictionary<string, double> { ["rowsAsWritten"] = 1228, ["rowsNeeded"] = 12288 },
            []
        );
    }

    static string E(double v) => v.ToString("0.0E+0", CultureInfo.InvariantCulture);

    /// <summary>The derivation slips of notes 000/001 Q1 and 003, each with numbers.</summary>
    static IEnumerable<Erratum> DerivationSlips(long seed) =>
        [.. DeltaSlips(seed), ReluAtZero(seed), .. SmallCnnSlips(seed), MaskProbability()];

    /// <summary>Notes 000/001 Q1: δ⁽ᴸ⁾ with a stray Σ_k, and the "forward mode" passage.</summary>
    static IEnumerable<Erratum> DeltaSlips(long seed)
    {
        using var scope = NewDisposeScope();
        // Q1: δ⁽ᴸ⁾ with the stray Σ_k.
        int[] sizes = [4, 6, 3];
        var (W, b, x, t) = RandomMlp(sizes, seed);
        var (Z, A) = Gradients.MlpL2Gradients.Forward(x, W, b, "sigmoid");
        var (delta, _, _) = Gradients.MlpL2Gradients.Backward(Z, A, W, t, "sigmoid");
        var written = Gradients.MlpL2Gradients.DeltaLAsWritten(A[^1], Z[^1], t, "sigmoid");
        var mlp = Gradients.MlpL2Check.Run(sizes, "sigmoid", seed);
        var q1 = new Dictionary<string, double>();
        for (int k = 0; k < sizes[^1]; k++)
        {
            q1[$"asWritten{k}"] = written[k].item<double>();
            q1[$"correct{k}"] = delta[^1][k].item<double>();
            q1[$"autograd{k}"] = mlp.Entries[0].Autograd[k];
        }
        // both slips are in Q1
        Erratum Q1(
            string title,
            string asWritten,
            string corrected,
            Dictionary<string, double> numbers,
            Block evidence
        ) => new("000/001", "Q1", title, asWritten, corrected, numbers, [evidence]);
        yield return Q1(
            "a stray Σ_k in δ⁽ᴸ⁾",
            "δ⁽ᴸ⁾ = Σ_k (a⁽ᴸ⁾ − y_k) σ′(z⁽ᴸ⁾)",
            "δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − t) ⊙ σ′(z⁽ᴸ⁾); the sum makes every component carry the total error",
            q1,
            new Table(
                ["component", "as written", "correct (hand)", "autograd ∂E/∂z⁽ᴸ⁾"],
                Enumerable
                    .Range(0, sizes[^1])
                    .Select(k =>
                        (IReadOnlyList<string>)
                            [k.ToString(), G(q1[$"asWritten{k}"]), G(q1[$"correct{k}"]), G(q1[$"autograd{k}"])]
                    )
                    .ToList(),
                "a 4-6-3 sigmoid MLP"
            )
        );
        double maxDW = mlp.Entries.Where(e => e.Name.StartsWith("dE/dW")).Max(e => e.Autograd.Max(Math.Abs));
        yield return Q1(
            "the \"forward mode\" passage",
            "δ⁽¹⁾ = 0 (\"x is a constant, so ∂x/∂z = 0\"), recursed forward",
            "δ is recursed backward from δ⁽ᴸ⁾; starting from δ⁽¹⁾ = 0 makes every gradient zero",
            new() { ["autogradMaxAbsDEdW"] = maxDW },
            new Paragraph($"Autograd's ∂E/∂W on the same network has largest entry {G(maxDW)}, not 0.")
        );
    }

    /// <summary>A seeded MLP of the given sizes in float64: weights, biases, an input and a target in [0, 1).</summary>
    static (Tensor[] W, Tensor[] b, Tensor x, Tensor t) RandomMlp(int[] sizes, long seed)
    {
        const ScalarType f64 = ScalarType.Float64;
        using var gen = new Generator((ulong)seed);
        var W = sizes.Skip(1).Select((n, l) => randn([n, sizes[l]], f64, generator: gen)).ToArray();
        var b = sizes.Skip(1).Select(n => randn([n], f64, generator: gen)).ToArray();
        var x = randn([sizes[0]], f64, generator: gen);
        return (W, b, x, rand([sizes[^1]], f64, generator: gen));
    }

    /// <summary>Notes 003 eq. 23: ReLU′ at 0 as (1 + sgn h)/2.</summary>
    static Erratum ReluAtZero(long seed)
    {
        var c = Gradients.DropoutConcatCase.Random(3, 4, 2, seed);
        double dot = c.X.Select((xi, i) => xi * c.W1[i][0]).Sum();
        c = c with { B1 = c.B1.Select((v, j) => j == 0 ? -dot : v).ToArray(), M = Enumerable.Repeat(1.0, 7).ToArray() };
        var r = Gradients.DropoutConcatCheck.Run(c);
        var dh1 = r.Entries.Single(e => e.Name == "dL/dh1");
        var da1 = r.Entries.Single(e => e.Name == "dL/da1");
        return new Erratum(
            "003",
            "eq. 23",
            "ReLU′(0)",
            "∂a₁/∂h₁ = diag((1 + sgn h₁)/2), which is 1/2 where h₁ = 0",
            "0 at h₁ = 0, libtorch's (and TorchLabs') choice",
            new Dictionary<string, double>
            {
                ["dLda1"] = da1.Hand[0],
                ["dLdh1AsWritten"] = 0.5 * da1.Hand[0],
                ["dLdh1Autograd"] = dh1.Autograd[0],
                ["dLdh1Hand"] = dh1.Hand[0],
            },
            [
                new Paragraph(
                    $"With h₁⁽¹⁾ = 0 exactly: ∂L/∂a₁⁽¹⁾ = {G(da1.Hand[0])}, so the document's formula gives ∂L/∂h₁⁽¹⁾ = {G(0.5 * da1.Hand[0])}, while autograd gives {G(dh1.Autograd[0])} (hand {G(dh1.Hand[0])})."
                ),
            ]
        );
    }

    /// <summary>Notes 003 eqs. 37, 38 and 49: the flattened size, a₂ for u₂, the untied bias.</summary>
    static IEnumerable<Erratum> SmallCnnSlips(long seed)
    {
        var untied = Gradients.SmallCnnCheck.Run(new Gradients.SmallCnnShape(), false, seed);
        var tied = Gradients.SmallCnnCheck.Run(new Gradients.SmallCnnShape(), true, seed);
        yield return new Erratum(
            "003",
            "eq. 37",
            "the flattened size is a product, not a sum",
            "d = C_out + H_mp + W_mp",
            "d = C_out · H_mp · W_mp",
            new Dictionary<string, double>
            {
                ["tutorialAsWritten"] = 26,
                ["tutorialCorrect"] = 400,
                ["smallCnnAsWritten"] = 9,
                ["smallCnnCorrect"] = 27,
            },
            [
                new Paragraph(
                    "For the CIFAR-10 tutorial's second stage (16 channels of 5×5) the document's sum gives 26 where Flatten gives 400 (fc1 is 400 → 120); for the small CNN checked here (3 channels of 3×3 after pooling) 9 against 27."
                ),
            ]
        );
        double dW2 = untied.Entries.Single(e => e.Name == "dL/dW2").RelError;
        yield return new Erratum(
            "003",
            "eq. 38",
            "a₂ where u₂ is meant",
            "∂L/∂W₂ = a₂(ŷ − y)ᵀ",
            "∂L/∂W₂ = u₂(ŷ − y)ᵀ",
            new Dictionary<string, double> { ["relErrorVsAutograd"] = dW2 },
            [new Paragraph($"Computed with u₂ it matches autograd to {E(dW2)} relative.")]
        );
        yield return new Erratum(
            "003",
            "eq. 49",
            "an untied convolution bias",
            "b₁ ∈ R^(C_out × H_out × W_out), one value per output position (3 × 6 × 6 = 108 values)",
            "PyTorch's Conv2d ties one bias per channel (3 values), and then ∂L/∂b₁ is ∂L/∂u₁ summed over positions; both forms are checked",
            new Dictionary<string, double>
            {
                ["untiedMaxRelError"] = untied.MaxRelError,
                ["tiedMaxRelError"] = tied.MaxRelError,
            },
            [new Paragraph($"Untied max relative error {E(untied.MaxRelError)}, tied {E(tied.MaxRelError)}.")]
        );
    }

    /// <summary>Notes 003 eq. 4: the mask's probability against the text.</summary>
    static Erratum MaskProbability() =>
        new Erratum(
            "003",
            "eq. 4",
            "the mask's probability against the text",
            "m ~ Bernoulli(p), which keeps each element with probability p",
            "the text's reading: elements are zeroed with probability p (PyTorch's p); TorchLabs follows it and, as eq. 5 says, does not rescale by 1/(1 − p)",
            new Dictionary<string, double>(),
            []
        );

    static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    static string Pt(double[] p) => $"({G(p[0])}, {G(p[1])})";
}
