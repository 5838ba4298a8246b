using TorchLabs.Gradients;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchLabs.Reference;

namespace TorchLabs.Labs;

/// <summary>Which implementation of an optimizer runs.</summary>
public enum OptimizerImpl
{
    Hand,
    Torch,
    Reference,
}

/// <summary>How the gradient of f is obtained.</summary>
public enum GradMode
{
    Analytic,
    Numerical,
}

/// <summary>A path x_0 .. x_N and f(x_t) along it.</summary>
public sealed record Trajectory(string Optimizer, string Impl, double[][] Points, double[] Loss)
{
    /// <summary>The trajectory as `--format json` prints it.</summary>
    public object ToJson() =>
        new
        {
            optimizer = Optimizer,
            impl = Impl,
            trajectory = Points,
            loss = Loss,
        };
}

/// <summary>
/// Notes 000/001 Q3: the six optimizers on f(x) = x₀²/20 + x₁², started from a point drawn uniformly in [−100, 100]².
/// </summary>
public static class OptimizersLab
{
    /// <summary>f(x) = x₀²/20 + x₁² (notes Q3).</summary>
    public static double F(double[] x) => x[0] * x[0] / 20 + x[1] * x[1];

    /// <summary>∇f(x) = (x₀/10, 2x₁), the notes' analytical gradient.</summary>
    public static double[] GradAnalytic(double[] x) => [x[0] / 10, 2 * x[1]];

    /// <summary>Central differences (f(x + h eᵢ) − f(x − h eᵢ)) / 2h, the notes' numerical_gradient with its h =
    /// 1e-8.</summary>
    public static double[] GradNumerical(double[] x, double h = 1e-8)
    {
        var g = new double[x.Length];
        var xp = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            double keep = xp[i];
            xp[i] = keep + h;
            double fPlus = F(xp);
            xp[i] = keep - h;
            double fMinus = F(xp);
            xp[i] = keep;
            g[i] = (fPlus - fMinus) / (2 * h);
        }
        return g;
    }

    public static double[] Grad(double[] x, GradMode mode) =>
        mode == GradMode.Analytic ? GradAnalytic(x) : GradNumerical(x);

    /// <summary>The notes' start: uniform in [−100, 100]², from <paramref name="seed"/>.</summary>
    public static double[] DrawStart(long seed)
    {
        var rng = new Random(unchecked((int)seed));
        return [rng.NextDouble() * 200 - 100, rng.NextDouble() * 200 - 100];
    }

    /// <summary>Runs <paramref name="steps"/> updates of one optimizer implementation on f from <paramref
    /// name="start"/>.</summary>
    public static Trajectory Run(
        OptimizerSpec spec,
        OptimizerImpl impl,
        double[] start,
        int steps,
        GradMode mode = GradMode.Analytic
    )
    {
        spec.Validate();
        if (steps < 0)
            throw new UsageException($"‹steps› {steps}: expected a whole number >= 0");
        MemoryBudget.Require(64.0 * 3 * (steps + 1.0), $"‹steps› {steps}");
        if (start.Length != 2 || start.Any(v => !double.IsFinite(v)))
            throw new UsageException("‹start›: expected two finite numbers X0,X1");
        var points = new double[steps + 1][];
        points[0] = (double[])start.Clone();
        using var stepper = Stepper.Create(spec, impl, start, x => Grad(x, mode));
        for (int t = 1; t <= steps; t++)
            points[t] = stepper.Step();
        return new Trajectory(spec.Name, impl.ToString().ToLowerInvariant(), points, points.Select(F).ToArray());
    }

    /// <summary>One implementation of an optimizer on f, seen the same way: each call makes one update and returns the
    /// new point.</summary>
    sealed class Stepper : IDisposable
    {
        public required Func<double[]> Step { get; init; }
        public IDisposable? Owned { get; init; }

        public void Dispose() => Owned?.Dispose();

        public static Stepper Create(
            OptimizerSpec spec,
            OptimizerImpl impl,
            double[] start,
            Func<double[], double[]> grad
        )
        {
            double[] x = (double[])start.Clone();
            if (impl == OptimizerImpl.Reference)
            {
                INotesForm? notesForm = spec.CreateNotesForm();
                var reference = notesForm is null ? spec.CreateReference() : null;
                return new Stepper
                {
                    Step = () =>
                    {
                        if (notesForm is not null)
                            notesForm.Step(x, grad);
                        else
                            reference!.Step(x, grad(x));
                        return (double[])x.Clone();
                    },
                };
            }
            var p = new TorchSharp.Modules.Parameter(tensor(start, ScalarType.Float64));
            HandOptimizer? hand = impl == OptimizerImpl.Hand ? spec.CreateHand([p]) : null;
            optim.Optimizer? builtIn = impl == OptimizerImpl.Torch ? spec.CreateTorch([p]) : null;
            return new Stepper
            {
                Step = () =>
                {
                    hand?.BeforeGradient();
                    using (var g = tensor(grad(p.data<double>().ToArray()), ScalarType.Float64))
                        p.grad = g; // p keeps its own reference
                    if (hand is not null)
                        hand.step();
                    else
                        WithoutCollection.Run(() => builtIn!.step());
                    return p.data<double>().ToArray();
                },
                Owned = new Disposables(hand, builtIn, p),
            };
        }

        sealed class Disposables(params IDisposable?[] items) : IDisposable
        {
            public void Dispose()
            {
                foreach (var d in items)
                    d?.Dispose();
            }
        }
    }

    /// <summary>max_t of the relative error of step t, <see cref="HandVsAutograd.RelError"/> (‖a_t − b_t‖∞ / ‖b_t‖∞, b
    /// the reference path).</summary>
    public static double MaxRelError(double[][] a, double[][] b)
    {
        double worst = 0;
        for (int t = 0; t < a.Length; t++)
            worst = Math.Max(worst, HandVsAutograd.RelError(a[t], b[t]));
        return worst;
    }

    /// <summary>
    /// The first step t at which the two paths differ by more than <paramref name="tolerance"/> relative
    /// (<see cref="HandVsAutograd.RelError"/>: ‖a_t − b_t‖∞ / ‖b_t‖∞); null when they agree at every step.
    /// </summary>
    public static int? FirstDisagreement(double[][] a, double[][] b, double tolerance = 1e-9)
    {
        for (int t = 0; t < a.Length; t++)
            if (MaxRelError([a[t]], [b[t]]) > tolerance)
                return t;
        return null;
    }

    /// <summary>One optimizer's row of the race.</summary>
    /// <param name="HandDisagrees">First step where hand and torch.optim differ by more than 1e-9 relative; null:
    /// never.</param>
    /// <param name="ReferenceDisagrees">The same for the reference against torch.optim.</param>
    public sealed record RaceRow(
        OptimizerSpec Spec,
        Trajectory Hand,
        double FinalF,
        int? StepsToTarget,
        int? HandDisagrees,
        int? ReferenceDisagrees,
        double AnalyticVsNumerical
    );

    /// <summary>The race: all six from one start with the notes' settings.</summary>
    public sealed record RaceResult(
        double[] Start,
        int Steps,
        IReadOnlyList<RaceRow> Rows,
        NesterovEquivalence Nesterov
    )
    {
        /// <summary>The race as `--format json` prints it.</summary>
        public object ToJson() =>
            new
            {
                start = Start,
                steps = Steps,
                race = Rows.Select(r => new
                {
                    optimizer = r.Spec.Name,
                    settings = r.Spec.Describe(),
                    finalF = r.FinalF,
                    stepsToTarget = r.StepsToTarget,
                    handDisagreesAtStep = r.HandDisagrees,
                    referenceDisagreesAtStep = r.ReferenceDisagrees,
                    analyticVsNumerical = r.AnalyticVsNumerical,
                }),
                nesterovFormsMaxRelError = Nesterov.MaxRelError,
            };
    }

    /// <summary>The notes' look-ahead Nesterov and torch's form, one path after the change of variables y = x + μ
    /// v.</summary>
    public sealed record NesterovEquivalence(
        double MaxRelError,
        double[][] LookAheadPoints,
        double[][] TorchPoints,
        double[][] NotesPoints
    );

    public const double Target = 1e-3;

    public static RaceResult Race(double[] start, int steps, IProgress<string>? progress = null)
    {
        var rows = new List<RaceRow>();
        foreach (string name in OptimizerSpec.Names)
        {
            progress?.Report($"race: {name}");
            var spec = OptimizerSpec.NotesDefaults(name);
            var hand = Run(spec, OptimizerImpl.Hand, start, steps);
            var torchPath = Run(spec, OptimizerImpl.Torch, start, steps);
            var reference = Run(spec, OptimizerImpl.Reference, start, steps);
            double gradDiff = hand.Points.Max(x =>
                GradAnalytic(x).Zip(GradNumerical(x), (a, b) => Math.Abs(a - b)).Max()
            );
            int first = Array.FindIndex(hand.Loss, f => f < Target);
            rows.Add(
                new RaceRow(
                    spec,
                    hand,
                    hand.Loss[^1],
                    first < 0 ? null : first,
                    FirstDisagreement(hand.Points, torchPath.Points),
                    FirstDisagreement(reference.Points, torchPath.Points),
                    gradDiff
                )
            );
        }
        return new RaceResult(start, steps, rows, CompareNesterovForms(start, steps));
    }

    /// <summary>Runs the notes' look-ahead form (x_t, v_t) and torch's form (p_t); p_t should equal x_t + μ
    /// v_t.</summary>
    public static NesterovEquivalence CompareNesterovForms(double[] start, int steps)
    {
        var spec = OptimizerSpec.NotesDefaults("nesterov");
        var seed = new NotesForms.NesterovNotes(spec.Lr, spec.Momentum);
        double[] x = (double[])start.Clone();
        var notesPoints = new double[steps + 1][];
        var lookAhead = new double[steps + 1][];
        notesPoints[0] = (double[])x.Clone();
        lookAhead[0] = (double[])x.Clone();
        for (int t = 1; t <= steps; t++)
        {
            seed.Step(x, p => GradAnalytic(p));
            notesPoints[t] = (double[])x.Clone();
            lookAhead[t] = seed.LookAheadPoint(x);
        }
        var torchPath = Run(spec, OptimizerImpl.Torch, start, steps).Points;
        return new NesterovEquivalence(MaxRelError(lookAhead, torchPath), lookAhead, torchPath, notesPoints);
    }

    /// <summary>Reference backprop against autograd, then 50 steps of each optimizer: hand vs torch.optim vs
    /// reference.</summary>
    public sealed record MlpCheck(
        double GradientRelError,
        IReadOnlyList<(string Optimizer, double HandVsTorch, double ReferenceVsTorch)> Steps
    );

    /// <summary>
    /// The reference MLP [4, 8, 3] (sigmoid, softmax cross-entropy) on a fixed seeded dataset of 32 points: reference
    /// gradients against TorchSharp autograd, then <paramref name="steps"/> steps of each optimizer with each
    /// implementation from the same weights; the largest relative error over all parameters and steps.
    /// </summary>
    public static MlpCheck CheckMlp(long seed, int steps = 50, string activation = "sigmoid", int[]? sizes = null)
    {
        using var problem = new MlpProblem(seed, activation, sizes ?? [4, 8, 3]);
        // Gradients: reference backprop vs autograd.
        using var net0 = problem.Net();
        nn.functional.cross_entropy(net0.call(problem.X), problem.Y).backward();
        var (_, refGrads) = problem.Initial.LossAndGradients(problem.x, problem.y);
        double gradErr = MlpProblem.RelErr(refGrads, MlpProblem.Flat(net0, grad: true));
        var results = OptimizerSpec.Names.Select(name => CompareSteps(problem, name, steps)).ToList();
        return new MlpCheck(gradErr, results);
    }

    /// <summary>
    /// <paramref name="steps"/> steps of optimizer <paramref name="name"/> by hand, by torch.optim and by the
    /// reference, from the same weights: the largest relative difference of the hand and reference parameters from
    /// torch.optim's.
    /// </summary>
    static (string, double, double) CompareSteps(MlpProblem p, string name, int steps)
    {
        var spec = new OptimizerSpec
        {
            Name = name,
            Lr = name is "gd" or "momentum" or "nesterov" ? 0.5 : 0.05,
            Momentum = name is "momentum" or "nesterov" ? 0.9 : 0,
            Alpha = 0.9,
        };
        using var handNet = p.Net();
        using var torchNet = p.Net();
        var refNet = p.Reference();
        using var hand = spec.CreateHand(handNet.parameters());
        using var builtIn = spec.CreateTorch(torchNet.parameters());
        var refOpt = spec.CreateReference();
        double handErr = 0,
            refErr = 0;
        for (int t = 0; t < steps; t++)
        {
            using var scope = NewDisposeScope();
            hand.zero_grad();
            nn.functional.cross_entropy(handNet.call(p.X), p.Y).backward();
            hand.step();
            builtIn.zero_grad();
            nn.functional.cross_entropy(torchNet.call(p.X), p.Y).backward();
            WithoutCollection.Run(() => builtIn.step());
            var (_, g) = refNet.LossAndGradients(p.x, p.y);
            refOpt.Step(refNet.Parameters, g);
            var torchParams = MlpProblem.Flat(torchNet);
            handErr = Math.Max(handErr, MlpProblem.RelErr(MlpProblem.Flat(handNet), torchParams));
            refErr = Math.Max(refErr, MlpProblem.RelErr(refNet.Parameters.ToArray(), torchParams));
        }
        return (name, handErr, refErr);
    }

    /// <summary>
    /// The MLP check's problem: 32 seeded points in [−2, 2]^d with class labels, and one set of initial weights that
    /// every copy of the network starts from (TorchSharp's <see cref="Mlp"/> and the pure C# reference).
    /// </summary>
    sealed class MlpProblem : IDisposable
    {
        const int N = 32;
        readonly int[] sizes;
        readonly string activation;
        readonly RefActivation act;
        public readonly double[][] x;
        public readonly double[] y;
        public Tensor X { get; }
        public Tensor Y { get; }
        public ReferenceMlp Initial { get; }

        public MlpProblem(long seed, string activation, int[] sizes)
        {
            (this.sizes, this.activation) = (sizes, activation);
            var rng = new Random(unchecked((int)seed));
            x = Enumerable
                .Range(0, N)
                .Select(_ => Enumerable.Range(0, sizes[0]).Select(_ => rng.NextDouble() * 4 - 2).ToArray())
                .ToArray();
            y = Enumerable.Range(0, N).Select(_ => (double)rng.Next(sizes[^1])).ToArray();
            // The reference keeps its own activations (an independent oracle, plain doubles); unknown names are
            // rejected, not defaulted.
            act = activation switch
            {
                "sigmoid" => RefActivation.Sigmoid,
                "relu" => RefActivation.Relu,
                "tanh" => RefActivation.Tanh,
                _ => throw new UsageException($"‹activation› {activation}: expected sigmoid, relu or tanh"),
            };
            Initial = new ReferenceMlp(sizes, act, RefLoss.SoftmaxCrossEntropy, rng);
            X = tensor(x.SelectMany(r => r).ToArray(), [N, sizes[0]], ScalarType.Float64);
            Y = tensor(y.Select(v => (long)v).ToArray());
        }

        /// <summary>TorchSharp's MLP with the initial weights.</summary>
        public Mlp Net()
        {
            var net = new Mlp(sizes, activation, new Generator(0), ScalarType.Float64);
            using var _ = no_grad();
            var linears = net.LinearLayers;
            for (int l = 0; l < linears.Count; l++)
            {
                linears[l].weight!.copy_(tensor(Initial.W[l], [sizes[l + 1], sizes[l]], ScalarType.Float64));
                linears[l].bias!.copy_(tensor(Initial.B[l], ScalarType.Float64));
            }
            return net;
        }

        /// <summary>The pure C# MLP with the initial weights.</summary>
        public ReferenceMlp Reference()
        {
            var refNet = new ReferenceMlp(sizes, act, RefLoss.SoftmaxCrossEntropy, new Random(0));
            for (int l = 0; l < sizes.Length - 1; l++)
            {
                Initial.W[l].CopyTo(refNet.W[l], 0);
                Initial.B[l].CopyTo(refNet.B[l], 0);
            }
            return refNet;
        }

        /// <summary>The network's parameters (or their gradients) as plain arrays.</summary>
        public static double[][] Flat(Mlp net, bool grad = false) =>
            net.parameters().Select(p => (grad ? p.grad! : p).data<double>().ToArray()).ToArray();

        public static double RelErr(double[][] a, double[][] b) =>
            MaxRelError([a.SelectMany(v => v).ToArray()], [b.SelectMany(v => v).ToArray()]);

        public void Dispose()
        {
            X.Dispose();
            Y.Dispose();
        }
    }

    /// <summary>Hand Adam and torch.optim Adam training the CIFAR-10 tutorial's Net from one seed, in
    /// float32.</summary>
    public sealed record NetProof(
        double[] HandLoss,
        double[] TorchLoss,
        double MaxRelDifference,
        double MaxParamRelDifference
    );

    /// <summary>
    /// Trains two copies of CifarNet (same initial weights) on the same seeded random batches, one with the hand Adam
    /// and one with TorchSharp's torch.optim Adam (lr 1e-3), and compares the loss curves and the final weights.
    /// </summary>
    public static NetProof ProveOnCifarNet(long seed, int steps = 60, int batch = 16)
    {
        using var g1 = new Generator((ulong)seed);
        using var g2 = new Generator((ulong)seed);
        using var data = new Generator((ulong)seed + 7);
        using var a = new CifarNet(g1);
        using var b = new CifarNet(g2);
        using var hand = new Optimizers.Adam(a.parameters(), 1e-3);
        using var builtIn = optim.Adam(b.parameters(), 1e-3);
        var handLoss = new double[steps];
        var torchLoss = new double[steps];
        for (int t = 0; t < steps; t++)
        {
            using var scope = NewDisposeScope();
            var x = randn([batch, 3, 32, 32], generator: data);
            var y = randint(0, 10, [batch], generator: data);
            hand.zero_grad();
            var la = nn.functional.cross_entropy(a.call(x), y);
            la.backward();
            hand.step();
            builtIn.zero_grad();
            var lb = nn.functional.cross_entropy(b.call(x), y);
            lb.backward();
            WithoutCollection.Run(() => builtIn.step());
            handLoss[t] = la.item<float>();
            torchLoss[t] = lb.item<float>();
        }
        double lossDiff = handLoss.Zip(torchLoss, (u, v) => HandVsAutograd.RelError([u], [v])).Max();
        double paramDiff = a.parameters()
            .Zip(b.parameters(), (p, q) =>
            {
                using var d = (p - q).abs().max();
                using var s = q.abs().max();
                return d.item<float>() / (double)s.item<float>();
            })
            .Max();
        return new NetProof(handLoss, torchLoss, lossDiff, paramDiff);
    }
}
