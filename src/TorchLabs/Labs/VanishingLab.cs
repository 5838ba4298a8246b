using System.Diagnostics;
using System.Globalization;
using TorchLabs.Models;
using TorchLabs.Reporting;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Labs;

/// <summary>Options of the vanishing-gradient lab.</summary>
public sealed record VanishingOptions
{
    public int Depth { get; init; } = 100;
    public int Width { get; init; } = 32;
    public long Seed { get; init; } = Seeds.Default;
    public int[] TrainDepths { get; init; } = [10, 50, 100];

    /// <summary>Where each trained stack is written as STACK-DEPTH.safetensors and .pth (the command's OUT/models);
    /// null: not written.</summary>
    public string? ModelsDir { get; init; }

    /// <summary>TensorBoard event files (<c>--tensorboard DIR</c>): one run per trained stack (DIR/STACK-DEPTH: the
    /// loss at every step, histograms of every parameter and gradient at every tenth of the steps and the last, the
    /// summary) and one per stack's gradient norms (DIR/norms-STACK: ‖∂L/∂W_i‖ and ‖∂L/∂a_i‖ with the layer i as the
    /// step).</summary>
    public string? TensorBoardDir { get; init; }
    public int Steps { get; init; } = 300;
    public double LearningRate { get; init; } = 0.1;
    public int Samples { get; init; } = 256;
    public int Classes { get; init; } = 4;

    public void Validate()
    {
        Require.WholeNumber(Depth, "depth");
        Require.WholeNumber(Width, "width");
        if (Steps < 0)
            throw new UsageException($"‹steps› {Steps}: expected a whole number >= 0");
        Require.LearningRate(LearningRate);
        if (TrainDepths.Any(d => d < 1))
            throw new UsageException($"‹train-depths›: expected positive depths");
        // Three stacks of width² weights per layer in float64, with their gradients, activations and their gradients.
        double perStack =
            8.0
            * Math.Max(Depth, TrainDepths.DefaultIfEmpty(0).Max())
            * ((double)Width * Width * 2 + 2.0 * Samples * Width);
        MemoryBudget.Require(3 * perStack, $"‹depth› {Depth} ‹width› {Width}");
    }
}

/// <summary>Per-layer gradient norms of one stack, input side first.</summary>
public sealed record StackGradNorms(double[] Weight, double[] Activation);

/// <summary>One training run: the loss at every step (until it diverged, if it did) and the final training
/// accuracy.</summary>
public sealed record TrainingCurve(
    string Stack,
    int Depth,
    double[] Loss,
    double FinalAccuracy,
    int? DivergedAt = null
);

public sealed record VanishingResult(
    int Depth,
    int Width,
    IReadOnlyDictionary<string, StackGradNorms> GradNorms,
    double[] Bound,
    IReadOnlyList<TrainingCurve> Training,
    int Steps,
    double LearningRate
);

/// <summary>
/// Notes 003 eqs. 52-75: vanishing gradients in a deep sigmoid stack, the ReLU remedy and the residual stack. One batch
/// through each stack, the loss backpropagated by autograd, and ‖∂L/∂W_i‖, ‖∂L/∂a_i‖ per layer; then training curves.
/// </summary>
public static class VanishingLab
{
    /// <summary>A run as `--format json` prints it: the deepest stack's summary and the result record.</summary>
    public static object ToJson(ModelSummary summary, VanishingResult r) =>
        new
        {
            summary = summary.ToJson(),
            depth = r.Depth,
            width = r.Width,
            gradNorms = r.GradNorms.ToDictionary(kv => kv.Key, kv => kv.Value.Weight),
            activationGradNorms = r.GradNorms.ToDictionary(kv => kv.Key, kv => kv.Value.Activation),
            bound = r.Bound,
            training = new
            {
                steps = r.Steps,
                lr = r.LearningRate,
                runs = r.Training.Select(c => new
                {
                    stack = c.Stack,
                    depth = c.Depth,
                    loss = c.Loss,
                    finalAccuracy = c.FinalAccuracy,
                    divergedAtStep = c.DivergedAt,
                }),
            },
        };

    public static readonly string[] Stacks = ["sigmoid", "relu", "residual"];

    public static DeepStack Make(
        string stack,
        int depth,
        int width,
        int classes,
        Generator gen,
        ScalarType dtype = ScalarType.Float32
    ) =>
        stack switch
        {
            "sigmoid" => new SigmoidStack(depth, width, classes, gen, dtype),
            "relu" => new ReluStack(depth, width, classes, gen, dtype),
            "residual" => new ResidualStack(depth, width, classes, gen, dtype),
            _ => throw new UsageException($"{stack}: unknown stack; expected sigmoid, relu or residual"),
        };

    /// <summary>A small seeded classification task: Gaussian clusters in R^width, one per class.</summary>
    public static (Tensor X, Tensor Y) Task(int samples, int width, int classes, long seed)
    {
        using var gen = new Generator((ulong)seed + 1000);
        var means = randn([classes, width], generator: gen) * 1.5;
        var y = randint(0, classes, [samples], generator: gen);
        var x = means.index_select(0, y) + randn([samples, width], generator: gen);
        return (x, y);
    }

    /// <summary>‖∂L/∂W_i‖_F and ‖∂L/∂a_i‖_F (over the batch) for i = 1..depth, by autograd.</summary>
    public static StackGradNorms GradNorms(DeepStack net, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        net.zero_grad();
        var (a, scores) = net.Forward(x);
        for (int i = 1; i <= net.Depth; i++)
            a[i].retain_grad();
        nn.functional.cross_entropy(scores, y).backward();
        var w = net.Layers.Select(l => l.weight!.grad!.norm().to_type(ScalarType.Float64).item<double>()).ToArray();
        var act = Enumerable
            .Range(1, net.Depth)
            .Select(i => a[i].grad!.norm().to_type(ScalarType.Float64).item<double>())
            .ToArray();
        return new StackGradNorms(w, act);
    }

    public static VanishingResult Run(VanishingOptions o, IProgress<string>? progress = null)
    {
        o.Validate();
        var (x, y) = Task(o.Samples, o.Width, o.Classes, o.Seed);
        var norms = new Dictionary<string, StackGradNorms>();
        foreach (string s in Stacks)
        {
            progress?.Report($"gradient norms: {s}");
            // float64: the sigmoid stack's first-layer gradient (~4^−depth) underflows float32.
            using var gen = new Generator((ulong)o.Seed);
            using (var net = Make(s, o.Depth, o.Width, o.Classes, gen, ScalarType.Float64))
            using (var x64 = x.to_type(ScalarType.Float64))
                norms[s] = GradNorms(net, x64, y);
            if (o.TensorBoardDir is not null)
            {
                var board = new TensorBoardLog(Path.Combine(o.TensorBoardDir, "norms-" + s));
                for (int i = 0; i < o.Depth; i++)
                {
                    board.Scalar("gradient_norm/weight", norms[s].Weight[i], i + 1);
                    board.Scalar("gradient_norm/activation", norms[s].Activation[i], i + 1);
                }
            }
        }
        // The notes' bound: σ′ ≤ 1/4, so the σ′ factors between layer i and the top multiply to at most 4^−(depth−i).
        double top = norms["sigmoid"].Activation[^1];
        double[] bound = Enumerable.Range(1, o.Depth).Select(i => top * Math.Pow(0.25, o.Depth - i)).ToArray();

        var curves = new List<TrainingCurve>();
        foreach (int depth in o.TrainDepths)
        foreach (string s in Stacks)
        {
            progress?.Report($"training {s}, depth {depth}");
            curves.Add(Train(s, depth, o, x, y));
        }
        return new VanishingResult(o.Depth, o.Width, norms, bound, curves, o.Steps, o.LearningRate);
    }

    /// <summary>Plain SGD (no momentum, no adaptive scaling, which would hide vanishing gradients) on the
    /// task.</summary>
    public static TrainingCurve Train(string stack, int depth, VanishingOptions o, Tensor x, Tensor y)
    {
        using var gen = new Generator((ulong)o.Seed);
        using var net = Make(stack, depth, o.Width, o.Classes, gen);
        using var opt = optim.SGD(net.parameters(), o.LearningRate);
        var loss = new List<double>();
        var board = o.TensorBoardDir is null
            ? null
            : new TensorBoardLog(Path.Combine(o.TensorBoardDir, $"{stack}-{depth}"));
        board?.Text("model/summary", TensorBoardLog.Code(ModelSummary.Of(net, [x.shape[0], o.Width]).ToText()), 0);
        int every = Math.Max(1, o.Steps / 10);
        int? diverged = null;
        for (int t = 0; t < o.Steps; t++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var l = nn.functional.cross_entropy(net.call(x), y);
            double value = l.item<float>();
            if (!double.IsFinite(value))
            {
                diverged = t + 1;
                break;
            } // exploding gradients: stop, and say at which step
            loss.Add(value);
            board?.Scalar("train/loss", value, t + 1);
            l.backward();
            opt.step();
            if (board is not null && ((t + 1) % every == 0 || t + 1 == o.Steps))
                board.Histograms(net, t + 1);
        }
        double acc;
        using (no_grad())
            acc = net.call(x).argmax(1).eq(y).to_type(ScalarType.Float64).mean().item<double>();
        if (o.ModelsDir is not null)
        {
            ModelFiles.SaveSafetensors(net, Path.Combine(o.ModelsDir, $"{stack}-{depth}.safetensors"));
            ModelFiles.SavePth(net, Path.Combine(o.ModelsDir, $"{stack}-{depth}.pth"));
        }
        return new TrainingCurve(stack, depth, [.. loss], acc, diverged);
    }

    /// <summary>torchinfo's summary of the deepest stack (sigmoid; the others have the same shapes) for one
    /// sample.</summary>
    public static ModelSummary Summary(VanishingOptions o)
    {
        using var gen = new Generator(0);
        using var net = Make("sigmoid", o.Depth, o.Width, o.Classes, gen);
        return ModelSummary.Of(net, [1, o.Width]);
    }

    static string G(double v) => v.ToString("0.00E+0", CultureInfo.InvariantCulture);

    public static IEnumerable<Block> Blocks(VanishingResult r)
    {
        double[] layer = Enumerable.Range(1, r.Depth).Select(i => (double)i).ToArray();
        var gradPlot = Plots.Curves(
            $"Gradient norms through depth {r.Depth}, width {r.Width}",
            "layer i (input side first)",
            "‖∂L/∂W_i‖ (log scale)",
            r.GradNorms.Select(kv => (kv.Key, layer, kv.Value.Weight))
                .Append(("sigmoid bound 4^−(L−i)·‖∂L/∂a_L‖", layer, r.Bound)),
            logY: true
        );
        yield return Figures.Of(
            gradPlot,
            "vanishing-weight-grads",
            "‖∂L/∂W_i‖ per layer; the straight line is the notes' bound, a factor 1/4 per layer"
        );
        yield return Figures.Of(
            Plots.Curves(
                $"‖∂L/∂a_i‖ through depth {r.Depth}",
                "layer i (input side first)",
                "‖∂L/∂a_i‖ (log scale)",
                r.GradNorms.Select(kv => (kv.Key, layer, kv.Value.Activation)),
                logY: true
            ),
            "vanishing-activation-grads",
            "‖∂L/∂a_i‖ per layer"
        );
        yield return new Table(
            ["stack", "‖∂L/∂W_1‖ (input side)", $"‖∂L/∂W_{r.Depth}‖ (top)", "ratio first/top"],
            r.GradNorms.Select(kv =>
                    (IReadOnlyList<string>)
                        [
                            kv.Key,
                            G(kv.Value.Weight[0]),
                            G(kv.Value.Weight[^1]),
                            G(kv.Value.Weight[0] / kv.Value.Weight[^1]),
                        ]
                )
                .ToList()
        );
        foreach (int depth in r.Training.Select(c => c.Depth).Distinct())
        {
            var cs = r.Training.Where(c => c.Depth == depth).ToList();
            double[] steps = Enumerable.Range(1, r.Steps).Select(i => (double)i).ToArray();
            yield return Figures.Of(
                Plots.Curves(
                    $"Training at depth {depth} (SGD, lr {r.LearningRate})",
                    "step",
                    "cross-entropy loss",
                    cs.Select(c =>
                        (
                            c.Stack + (c.DivergedAt is int d ? $" (diverged at step {d})" : ""),
                            steps[..c.Loss.Length],
                            c.Loss
                        )
                    )
                ),
                $"vanishing-training-{depth}",
                $"Loss curves of the three stacks at depth {depth}"
            );
        }
        yield return new Table(
            ["depth", "stack", "first loss", "last loss", "training accuracy"],
            r.Training.Select(c =>
                    (IReadOnlyList<string>)
                        [
                            c.Depth.ToString(),
                            c.Stack,
                            c.Loss.Length > 0 ? c.Loss[0].ToString("F4") : "–",
                            c.DivergedAt is int d ? $"diverged (non-finite loss at step {d})"
                            : c.Loss.Length > 0 ? c.Loss[^1].ToString("F4")
                            : "–",
                            c.FinalAccuracy.ToString("P1", CultureInfo.InvariantCulture),
                        ]
                )
                .ToList()
        );
    }
}

/// <summary>The vanishing-gradient section of the report.</summary>
public sealed class VanishingReportLab : IReportLab
{
    public string Id => "vanishing";
    public string Title => "Vanishing gradients: sigmoid, ReLU and residual stacks";
    public string Summary =>
        "Per-layer gradient norms of deep sigmoid, ReLU and residual stacks, and their training curves (notes 003 eqs. 52-75)";

    public Availability Check(LabContext context) => Availability.Yes;

    public ReportSection Run(LabContext context)
    {
        var options = context.Quick
            ? new VanishingOptions
            {
                Seed = context.Seed,
                Depth = 12,
                Width = 8,
                TrainDepths = [6, 12],
                Steps = 20,
            }
            : new VanishingOptions { Seed = context.Seed };
        var r = VanishingLab.Run(options, context.Progress);
        var blocks = new List<Block>
        {
            new Paragraph(
                $"Notes 003 eqs. 52-75. Three stacks of {r.Depth} layers of width {r.Width} (weights zero-mean Gaussian, biases zero, a linear head and cross-entropy), one batch of a seeded 4-class task, gradients by autograd."
            ),
        };
        blocks.AddRange(VanishingLab.Blocks(r));
        blocks.Add(
            new Paragraph(
                "The sigmoid stack as torchinfo's summary shows it, for one sample (the ReLU and residual stacks have the same layers and counts):"
            )
        );
        blocks.Add(new Preformatted(VanishingLab.Summary(options).ToText()));
        var s = r.GradNorms["sigmoid"];
        var res = r.GradNorms["residual"];
        var relu = r.GradNorms["relu"];
        blocks.Add(
            new Paragraph(
                $"Reading: in the sigmoid stack the gradient reaching the first layer is {s.Weight[0] / s.Weight[^1]:0.0E+0} times the top layer's — each layer multiplies by diag(σ′)Wᵢ with σ′ ≤ 1/4, and the measured decay follows the notes' 4^−l bound in slope. The ReLU stack with He weights keeps the ratio at {relu.Weight[0] / relu.Weight[^1]:0.0E+0} (ReLU′ is 0 or 1), and the residual stack at {res.Weight[0] / res.Weight[^1]:0.0E+0}: its identity path adds I to every layer's Jacobian, so the product cannot collapse. In training with plain SGD the deep sigmoid stack's loss barely moves while the residual stack learns; see the table for the measured losses and accuracies."
                    + (
                        r.Training.Any(c => c.DivergedAt is not null)
                            ? " Where a run diverged, the opposite problem showed: gradients exploded (the ReLU stack's activations and gradients are not bounded)."
                            : ""
                    )
            )
        );
        return new ReportSection(Id, Title, SectionStatus.Ran, blocks, TimeSpan.Zero)
        {
            KeyNumber =
                $"first/top layer gradient at depth {r.Depth}: sigmoid {s.Weight[0] / s.Weight[^1]:0.0E+0}, residual {res.Weight[0] / res.Weight[^1]:0.0E+0}",
        };
    }
}
