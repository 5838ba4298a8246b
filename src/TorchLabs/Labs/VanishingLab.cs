using System.Globalization;
using TorchLabs.Models;
using TorchLabs.Reporting;

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
    int? DivergedAtStep = null
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
public static partial class VanishingLab
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
                runs = r.Training,
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
            "sigmoid" => new DeepStack(StackKind.Sigmoid, depth, width, classes, gen, dtype),
            "relu" => new DeepStack(StackKind.Relu, depth, width, classes, gen, dtype),
            "residual" => new DeepStack(StackKind.SigmoidResidual, depth, width, classes, gen, dtype),
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
            WithoutCollection.Run(() => opt.step());
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
}
