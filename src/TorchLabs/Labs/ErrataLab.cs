using System.Diagnostics;
using System.Globalization;
using TorchLabs.Reporting;

namespace TorchLabs.Labs;

/// <summary>
/// The errata: slips of the seed documents (../shared/seeds/README.md), each shown with numbers, the document's formula
/// run beside the correct one.
/// </summary>
public sealed class ErrataLab : IReportLab
{
    public string Id => "errata";
    public string Title => "Errata: the seed documents' slips, in numbers";
    public string Summary => "Each slip of the course documents run beside the correct formula";

    public Availability Check(LabContext context) => Availability.Yes;

    public ReportSection Run(LabContext context)
    {
        var sw = Stopwatch.StartNew();
        double[] start = OptimizersLab.DrawStart(context.Seed);
        int steps = OptimizersReportLab.SeedSteps;
        var blocks = new List<Block>
        {
            new Paragraph($"Seed 000/001 Q3's optimizer code, as written, against the correct update (torch.optim's), on f(x) = x₀²/20 + x₁² " +
                          $"from the race's start ({G(start[0])}, {G(start[1])}), {steps:N0} steps, analytic gradient."),
        };
        foreach (var slip in OptimizersLab.Slips(start, steps))
        {
            blocks.Add(new Paragraph($"**{slip.Title}.** The document: `{slip.AsWritten}`. Correct: {slip.Correct}."));
            var rows = new List<IReadOnlyList<string>>();
            foreach (int t in new[] { 1, 2, 3, 100, steps })
                rows.Add([t.ToString("N0"), Pt(slip.WrittenPath[t]), G(OptimizersLab.F(slip.WrittenPath[t])), Pt(slip.CorrectPath[t]), G(OptimizersLab.F(slip.CorrectPath[t]))]);
            blocks.Add(new Table(["step t", "as written: x_t", "f(x_t)", "correct: x_t", "f(x_t)"], rows));
        }
        blocks.AddRange(DerivationSlips(context.Seed));
        blocks.AddRange(Seed004Slips());
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, sw.Elapsed);
    }

    /// <summary>Seed 004: the printed code's initialisation against the one that produced the printed costs.</summary>
    public static IEnumerable<Block> Seed004Slips()
    {
        var written = VectorBackpropLab.Run(new VectorBackpropOptions { Init = "as-written", Impl = "torch", Iterations = 3, PrintEvery = 1 });
        var he = VectorBackpropLab.Run(new VectorBackpropOptions { Init = "he", Impl = "torch", Iterations = 1 });
        var w = written.Tables[0];
        yield return new Paragraph("**Seed 004 section 4: the initialisation.** The code prints `param_w[l] = np.random.randn(...) * np.sqrt(2)` for the hidden " +
            $"layers. Run as written (NumPy's generator, seed(1) then seed(10)), the cost at iteration 0 is {VectorBackpropLab.Numpy8(w.Costs[0].Cost)} and it is NaN " +
            $"or infinite from iteration {w.DivergedAt?.ToString() ?? "–"}. With He initialisation, randn · √(2/n_(l−1)), the cost at iteration 0 is " +
            $"{VectorBackpropLab.Numpy8(he.Tables[0].Costs[0].Cost)}, the document's printed 0.69301356, and the whole printed table follows (see the vector-backprop section).");
        yield return new Paragraph("**Seed 004: predict's input.** The document draws `X_new = np.random.rand(1228, 200)`: 1228 rows, where the first layer's " +
            "weights need 12288, so `np.dot(param_w[1], X_new)` raises a shape error. TorchLabs draws 12288 rows.");
    }

    static string E(double v) => v.ToString("0.0E+0", CultureInfo.InvariantCulture);

    /// <summary>The derivation slips of seeds 000/001 Q1 and 003, each with numbers.</summary>
    public static IEnumerable<Block> DerivationSlips(long seed)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        // Q1: δ⁽ᴸ⁾ with the stray Σ_k.
        using var gen = new TorchSharp.torch.Generator((ulong)seed);
        int[] sizes = [4, 6, 3];
        var W = sizes.Skip(1).Select((n, l) => TorchSharp.torch.randn([n, sizes[l]], TorchSharp.torch.ScalarType.Float64, generator: gen)).ToArray();
        var b = sizes.Skip(1).Select(n => TorchSharp.torch.randn([n], TorchSharp.torch.ScalarType.Float64, generator: gen)).ToArray();
        var x = TorchSharp.torch.randn([sizes[0]], TorchSharp.torch.ScalarType.Float64, generator: gen);
        var t = TorchSharp.torch.rand([sizes[^1]], TorchSharp.torch.ScalarType.Float64, generator: gen);
        var (Z, A) = Gradients.MlpL2Gradients.Forward(x, W, b, "sigmoid");
        var (delta, _, _) = Gradients.MlpL2Gradients.Backward(Z, A, W, t, "sigmoid");
        var written = Gradients.MlpL2Gradients.DeltaLAsWritten(A[^1], Z[^1], t, "sigmoid");
        var mlp = Gradients.MlpL2Check.Run(sizes, "sigmoid", seed);
        yield return new Paragraph("**Seed 000/001 Q1: a stray Σ_k in δ⁽ᴸ⁾.** The document writes δ⁽ᴸ⁾ = Σ_k (a⁽ᴸ⁾ − y_k) σ′(z⁽ᴸ⁾); the sum makes every " +
            "component carry the total error. Correct: δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − t) ⊙ σ′(z⁽ᴸ⁾). On a 4-6-3 sigmoid MLP:");
        yield return new Table(["component", "as written", "correct (hand)", "autograd ∂E/∂z⁽ᴸ⁾"],
            Enumerable.Range(0, sizes[^1]).Select(k => (IReadOnlyList<string>)[k.ToString(), G(written[k].item<double>()), G(delta[^1][k].item<double>()),
                G(mlp.Entries[0].Autograd[k])]).ToList());
        yield return new Paragraph("**Seed 000/001 Q1: the \"forward mode\" passage sets δ⁽¹⁾ = 0** (\"x is a constant, so ∂x/∂z = 0\") and recurses " +
            $"forward from it, which makes every gradient zero; autograd's ∂E/∂W on the same network has largest entry {G(mlp.Entries.Where(e => e.Name.StartsWith("dE/dW")).Max(e => e.Autograd.Max(Math.Abs)))}.");

        // 003 eq. 23: ReLU′ at 0.
        var c = Gradients.DropoutConcatCase.Random(3, 4, 2, seed);
        double dot = c.X.Select((xi, i) => xi * c.W1[i][0]).Sum();
        c = c with { B1 = c.B1.Select((v, j) => j == 0 ? -dot : v).ToArray(), M = Enumerable.Repeat(1.0, 7).ToArray() };
        var r = Gradients.DropoutConcatCheck.Run(c);
        var dh1 = r.Entries.Single(e => e.Name == "dL/dh1");
        var da1 = r.Entries.Single(e => e.Name == "dL/da1");
        yield return new Paragraph("**Seed 003 eq. 23: ReLU′(0).** The document writes ∂a₁/∂h₁ = diag((1 + sgn h₁)/2), which is 1/2 where h₁ = 0. " +
            $"libtorch (and TorchLabs) take 0 there. With h₁⁽¹⁾ = 0 exactly: ∂L/∂a₁⁽¹⁾ = {G(da1.Hand[0])}, so the document's formula gives " +
            $"∂L/∂h₁⁽¹⁾ = {G(0.5 * da1.Hand[0])}, while autograd gives {G(dh1.Autograd[0])} (hand {G(dh1.Hand[0])}).");

        // 003 eq. 37 and 38, and the untied bias.
        var untied = Gradients.SmallCnnCheck.Run(new Gradients.SmallCnnShape(), false, seed);
        var tied = Gradients.SmallCnnCheck.Run(new Gradients.SmallCnnShape(), true, seed);
        yield return new Paragraph("**Seed 003 eq. 37: the flattened size is a product, not a sum.** d = C_out · H_mp · W_mp. For the CIFAR-10 tutorial's " +
            "second stage (16 channels of 5×5) the document's d = C_out + H_mp + W_mp gives 26 where Flatten gives 400 (fc1 is 400 → 120); for the " +
            "small CNN checked here (3 channels of 3×3 after pooling) 9 against 27.");
        yield return new Paragraph("**Seed 003 eq. 38 names a₂ where u₂ is meant:** ∂L/∂W₂ = u₂(ŷ − y)ᵀ. Computed that way it matches autograd to " +
            $"{E(untied.Entries.Single(e => e.Name == "dL/dW2").RelError)} relative.");
        yield return new Paragraph("**Seed 003 eq. 49: an untied convolution bias.** The document's b₁ has one value per output position " +
            "(C_out × H_out × W_out = 3 × 6 × 6 = 108 values); PyTorch's Conv2d ties one bias per channel (3 values), and then ∂L/∂b₁ is ∂L/∂u₁ summed over " +
            $"positions. Both are checked: untied max relative error {E(untied.MaxRelError)}, tied {E(tied.MaxRelError)}.");
        yield return new Paragraph("**Seed 003 eq. 4 against its text:** m ~ Bernoulli(p) would keep each element with probability p, while the text " +
            "says elements are zeroed with probability p. TorchLabs follows the text and PyTorch (p is the drop probability), and, as eq. 5 says, does " +
            "not rescale by 1/(1 − p).");
    }

    static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    static string Pt(double[] p) => $"({G(p[0])}, {G(p[1])})";
}
