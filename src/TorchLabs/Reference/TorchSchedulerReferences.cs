namespace TorchLabs.Reference;

/// <summary>What a scheduler reads and writes of an optimizer's parameter group: lr, initial_lr and momentum.</summary>
public sealed class LrGroup(double lr, double momentum)
{
    public double Lr { get; set; } = lr;
    public double? InitialLr { get; set; }
    public double Momentum { get; set; } = momentum;
}

/// <summary>
/// The settings of one scheduler in PyTorch's keywords: numbers, lists of whole numbers (milestones), strings (mode,
/// anneal_strategy, threshold_mode), booleans, learning-rate functions (lr_lambda) and, for SequentialLR and
/// ChainedScheduler, the parts as (name, settings).
/// </summary>
public sealed class SchedSettings(IReadOnlyDictionary<string, object> values)
{
    public IReadOnlyDictionary<string, object> Given => values;

    public double Num(string key, double fallback) =>
        values.TryGetValue(key, out var v) ? Convert.ToDouble(v) : fallback;

    public int Int(string key, int fallback) => values.TryGetValue(key, out var v) ? Convert.ToInt32(v) : fallback;

    public string Text(string key, string fallback) => values.TryGetValue(key, out var v) ? (string)v : fallback;

    public bool Flag(string key, bool fallback) => values.TryGetValue(key, out var v) ? (bool)v : fallback;

    public int[] Ints(string key) => values.TryGetValue(key, out var v) ? (int[])v : [];

    public Func<int, double> Lambda(string key) => (Func<int, double>)values[key];

    public IReadOnlyList<(string Name, SchedSettings Settings)> Parts =>
        (IReadOnlyList<(string, SchedSettings)>)values["schedulers"];
}

/// <summary>
/// torch.optim.lr_scheduler written out by hand, each as PyTorch 1.13 computes it: the recursive (chainable) form of
/// get_lr on the group's current lr in <see cref="Step()"/>, the closed form where PyTorch has one for <see
/// cref="Step(int)"/> (a step to a given epoch, as SequentialLR takes at its milestones). Construction makes PyTorch's
/// initial step, as <c>_LRScheduler.__init__</c> does. One parameter group.
/// </summary>
public abstract class SchedulerReference
{
    /// <summary>The schedulers TorchSharp 0.107 has (ChainedScheduler is TorchSharp's ChainedLR).</summary>
    public static readonly string[] Names =
    [
        "StepLR",
        "MultiStepLR",
        "ConstantLR",
        "LinearLR",
        "ExponentialLR",
        "PolynomialLR",
        "CosineAnnealingLR",
        "LambdaLR",
        "MultiplicativeLR",
        "SequentialLR",
        "ChainedScheduler",
        "ReduceLROnPlateau",
        "CyclicLR",
        "OneCycleLR",
    ];

    protected readonly LrGroup g;
    protected int lastEpoch = -1,
        stepCount;
    protected double baseLr;

    protected SchedulerReference(LrGroup group, bool initialStep = true)
    {
        g = group;
        g.InitialLr ??= g.Lr; // group.setdefault('initial_lr', group['lr'])
        baseLr = g.InitialLr.Value;
        if (initialStep)
            InitialStep();
    }

    internal void InitialStep()
    {
        stepCount = 0;
        Step();
    }

    /// <summary><c>scheduler.step()</c>: last_epoch + 1, lr ← get_lr().</summary>
    public virtual void Step()
    {
        stepCount++;
        lastEpoch++;
        g.Lr = GetLr();
    }

    /// <summary><c>scheduler.step(epoch)</c>: the closed form at <paramref name="epoch"/> where PyTorch has one, else
    /// get_lr.</summary>
    public virtual void Step(int epoch)
    {
        stepCount++;
        lastEpoch = epoch;
        g.Lr = ClosedForm() ?? GetLr();
    }

    /// <summary>ReduceLROnPlateau's <c>step(metrics)</c>; the others ignore the metric.</summary>
    public virtual void Step(double metric) => Step();

    protected abstract double GetLr();

    protected virtual double? ClosedForm() => null;

    /// <summary>The reference scheduler <paramref name="name"/> on <paramref name="group"/>.</summary>
    public static SchedulerReference Create(string name, LrGroup group, SchedSettings s) =>
        name switch
        {
            "StepLR" => new StepLR(group, s.Int("step_size", 1), s.Num("gamma", 0.1)),
            "MultiStepLR" => new MultiStepLR(group, s.Ints("milestones"), s.Num("gamma", 0.1)),
            "ConstantLR" => new ConstantLR(group, s.Num("factor", 1.0 / 3), s.Int("total_iters", 5)),
            "LinearLR" => new LinearLR(
                group,
                s.Num("start_factor", 1.0 / 3),
                s.Num("end_factor", 1.0),
                s.Int("total_iters", 5)
            ),
            "ExponentialLR" => new ExponentialLR(group, s.Num("gamma", 0.1)),
            "PolynomialLR" => new PolynomialLR(group, s.Int("total_iters", 5), s.Num("power", 1.0)),
            "CosineAnnealingLR" => new CosineAnnealingLR(group, s.Num("T_max", 1), s.Num("eta_min", 0)),
            "LambdaLR" => new LambdaLR(group, s.Lambda("lr_lambda")),
            "MultiplicativeLR" => new MultiplicativeLR(group, s.Lambda("lr_lambda")),
            "SequentialLR" => new SequentialLR(
                group,
                [.. s.Parts.Select(p => Create(p.Name, group, p.Settings))],
                s.Ints("milestones")
            ),
            "ChainedScheduler" => new ChainedScheduler(
                group,
                [.. s.Parts.Select(p => Create(p.Name, group, p.Settings))]
            ),
            "ReduceLROnPlateau" => new ReduceLROnPlateau(group, s),
            "CyclicLR" => new CyclicLR(group, s),
            "OneCycleLR" => new OneCycleLR(group, s),
            _ => throw new ArgumentException($"{name}: no such scheduler; expected one of {string.Join(", ", Names)}"),
        };

    /// <summary>StepLR: η ← γη every step_size epochs; closed form η₀γ^⌊t/step_size⌋.</summary>
    sealed class StepLR(LrGroup g, int stepSize, double γ) : SchedulerReference(g)
    {
        protected override double GetLr() => lastEpoch == 0 || lastEpoch % stepSize != 0 ? g.Lr : g.Lr * γ;

        protected override double? ClosedForm() => baseLr * Math.Pow(γ, lastEpoch / stepSize);
    }

    /// <summary>MultiStepLR: η ← ηγ^c at a milestone given c times; closed form η₀γ^(milestones ≤ t).</summary>
    sealed class MultiStepLR(LrGroup g, int[] milestones, double γ) : SchedulerReference(g)
    {
        readonly int[] m = [.. milestones.Order()]; // set before the base constructor's initial step

        protected override double GetLr()
        {
            int count = m.Count(x => x == lastEpoch); // collections.Counter(milestones)[last_epoch]
            return count == 0 ? g.Lr : g.Lr * Math.Pow(γ, count);
        }

        protected override double? ClosedForm() => baseLr * Math.Pow(γ, m.Count(x => x <= lastEpoch)); // bisect_right
    }

    /// <summary>ConstantLR: η₀·factor until total_iters, then η₀.</summary>
    sealed class ConstantLR(LrGroup g, double factor, int total) : SchedulerReference(g)
    {
        protected override double GetLr() =>
            lastEpoch == 0 ? g.Lr * factor
            : lastEpoch != total ? g.Lr
            : g.Lr * (1.0 / factor);

        protected override double? ClosedForm() => baseLr * (factor + (lastEpoch >= total ? 1 : 0) * (1 - factor));
    }

    /// <summary>LinearLR: the factor goes linearly from start_factor to end_factor over total_iters epochs.</summary>
    sealed class LinearLR(LrGroup g, double start, double end, int total) : SchedulerReference(g)
    {
        protected override double GetLr() =>
            lastEpoch == 0 ? g.Lr * start
            : lastEpoch > total ? g.Lr
            : g.Lr * (1.0 + (end - start) / (total * start + (lastEpoch - 1) * (end - start)));

        protected override double? ClosedForm() =>
            baseLr * (start + (end - start) * Math.Min(total, lastEpoch) / total);
    }

    /// <summary>ExponentialLR: η ← γη every epoch.</summary>
    sealed class ExponentialLR(LrGroup g, double γ) : SchedulerReference(g)
    {
        protected override double GetLr() => lastEpoch == 0 ? g.Lr : g.Lr * γ;

        protected override double? ClosedForm() => baseLr * Math.Pow(γ, lastEpoch);
    }

    /// <summary>PolynomialLR: η_t = η₀(1 − min(T, t)/T)^p, as the ratio of successive terms.</summary>
    sealed class PolynomialLR(LrGroup g, int T, double p) : SchedulerReference(g)
    {
        protected override double GetLr() =>
            lastEpoch == 0 || lastEpoch > T
                ? g.Lr
                : g.Lr * Math.Pow((1.0 - (double)lastEpoch / T) / (1.0 - (double)(lastEpoch - 1) / T), p);

        protected override double? ClosedForm() => baseLr * Math.Pow(1.0 - (double)Math.Min(T, lastEpoch) / T, p);
    }

    /// <summary>CosineAnnealingLR (SGDR without restarts): η_t = η_min + (η₀ − η_min)(1 + cos(πt/T_max))/2,
    /// recursively.</summary>
    sealed class CosineAnnealingLR(LrGroup g, double T, double ηMin) : SchedulerReference(g)
    {
        protected override double GetLr()
        {
            if (lastEpoch == 0)
                return g.Lr;
            if (stepCount == 1 && lastEpoch > 0)
                return ηMin + (baseLr - ηMin) * (1 + Math.Cos(lastEpoch * Math.PI / T)) / 2;
            if ((lastEpoch - 1 - T) % (2 * T) == 0)
                return g.Lr + (baseLr - ηMin) * (1 - Math.Cos(Math.PI / T)) / 2;
            return (1 + Math.Cos(Math.PI * lastEpoch / T))
                    / (1 + Math.Cos(Math.PI * (lastEpoch - 1) / T))
                    * (g.Lr - ηMin)
                + ηMin;
        }

        protected override double? ClosedForm() => ηMin + (baseLr - ηMin) * (1 + Math.Cos(Math.PI * lastEpoch / T)) / 2;
    }

    /// <summary>LambdaLR: η_t = η₀·λ(t).</summary>
    sealed class LambdaLR(LrGroup g, Func<int, double> λ) : SchedulerReference(g)
    {
        protected override double GetLr() => baseLr * λ(lastEpoch);
    }

    /// <summary>MultiplicativeLR: η_t = η_{t−1}·λ(t) for t &gt; 0.</summary>
    sealed class MultiplicativeLR(LrGroup g, Func<int, double> λ) : SchedulerReference(g)
    {
        protected override double GetLr() => lastEpoch > 0 ? g.Lr * λ(lastEpoch) : g.Lr;
    }

    /// <summary>SequentialLR: each part in turn, the next from its milestone on (stepped to epoch 0 there).</summary>
    sealed class SequentialLR : SchedulerReference
    {
        readonly SchedulerReference[] parts;
        readonly int[] milestones;

        public SequentialLR(LrGroup g, SchedulerReference[] parts, int[] milestones)
            : base(g, initialStep: false)
        {
            (this.parts, this.milestones) = (parts, milestones);
            lastEpoch = 0; // last_epoch + 1
            g.Lr = g.InitialLr!.Value;
            foreach (var p in parts)
                p.lastEpoch -= 1;
            parts[0].InitialStep();
        }

        public override void Step()
        {
            lastEpoch++;
            int idx = BisectRight(milestones, lastEpoch);
            if (idx > 0 && milestones[idx - 1] == lastEpoch)
                parts[idx].Step(0);
            else
                parts[idx].Step();
        }

        protected override double GetLr() => g.Lr;

        /// <summary>Python's bisect.bisect_right, binary search as written: on milestones out of order (PyTorch does
        /// not sort them) it gives PyTorch's index, which counting the milestones ≤ x does not.</summary>
        static int BisectRight(int[] a, int x)
        {
            int lo = 0,
                hi = a.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (x < a[mid])
                    hi = mid;
                else
                    lo = mid + 1;
            }
            return lo;
        }
    }

    /// <summary>ChainedScheduler: every part steps, each on the lr the one before left.</summary>
    sealed class ChainedScheduler(LrGroup g, SchedulerReference[] parts) : SchedulerReference(g, initialStep: false)
    {
        public override void Step()
        {
            foreach (var p in parts)
                p.Step();
        }

        protected override double GetLr() => g.Lr;
    }

    /// <summary>
    /// ReduceLROnPlateau: a metric better than best·(1 ∓ threshold) (rel) or best ∓ threshold (abs) resets the count of
    /// bad epochs; more than patience bad epochs multiply η by factor (not below min_lr, and only if it moves by more
    /// than eps), then cooldown epochs in which bad epochs are not counted.
    /// </summary>
    sealed class ReduceLROnPlateau : SchedulerReference
    {
        readonly string mode,
            thresholdMode;
        readonly double factor,
            threshold,
            minLr,
            eps;
        readonly int patience,
            cooldown;
        double best;
        int bad,
            cooldownCounter;

        public ReduceLROnPlateau(LrGroup g, SchedSettings s)
            : base(g, initialStep: false)
        {
            (mode, thresholdMode) = (s.Text("mode", "min"), s.Text("threshold_mode", "rel"));
            (factor, threshold, minLr, eps) = (
                s.Num("factor", 0.1),
                s.Num("threshold", 1e-4),
                s.Num("min_lr", 0),
                s.Num("eps", 1e-8)
            );
            (patience, cooldown) = (s.Int("patience", 10), s.Int("cooldown", 0));
            best = mode == "min" ? double.PositiveInfinity : double.NegativeInfinity;
            lastEpoch = 0;
        }

        bool IsBetter(double a) =>
            (mode, thresholdMode) switch
            {
                ("min", "rel") => a < best * (1 - threshold),
                ("min", _) => a < best - threshold,
                ("max", "rel") => a > best * (threshold + 1),
                _ => a > best + threshold,
            };

        public override void Step(double metric)
        {
            lastEpoch++;
            if (IsBetter(metric))
            {
                best = metric;
                bad = 0;
            }
            else
                bad++;
            if (cooldownCounter > 0)
            {
                cooldownCounter--;
                bad = 0;
            }
            if (bad > patience)
            {
                double newLr = Math.Max(g.Lr * factor, minLr);
                if (g.Lr - newLr > eps)
                    g.Lr = newLr;
                cooldownCounter = cooldown;
                bad = 0;
            }
        }

        public override void Step() => throw new InvalidOperationException("ReduceLROnPlateau steps on a metric");

        protected override double GetLr() => g.Lr;
    }

    /// <summary>
    /// CyclicLR (Smith 2017): cycle = ⌊1 + t/(up + down)⌋, x = 1 + t/(up + down) − cycle, scale = x/r or (x − 1)/(r −
    /// 1) with r = up/(up + down); η = η_base + (η_max − η_base)·scale·f; momentum m = m_max − (m_max −
    /// m_base)·scale·f; f = 1 (triangular), 1/2^(cycle−1) (triangular2) or γ^t (exp_range).
    /// </summary>
    sealed class CyclicLR : SchedulerReference
    {
        readonly double maxLr,
            total,
            ratio,
            γ,
            baseMomentum,
            maxMomentum;
        readonly string mode;
        readonly bool cycleMomentum;

        public CyclicLR(LrGroup g, SchedSettings s)
            : base(Prepare(g, s), initialStep: false)
        {
            baseLr = s.Num("base_lr", double.NaN);
            maxLr = s.Num("max_lr", double.NaN);
            double up = s.Num("step_size_up", 2000),
                down = s.Given.ContainsKey("step_size_down") ? s.Num("step_size_down", 0) : up;
            (total, ratio) = (up + down, up / (up + down));
            (mode, γ) = (s.Text("mode", "triangular"), s.Num("gamma", 1.0));
            cycleMomentum = s.Flag("cycle_momentum", true);
            baseMomentum = cycleMomentum ? g.Momentum : 0;
            maxMomentum = s.Num("max_momentum", 0.9);
            InitialStep();
        }

        static LrGroup Prepare(LrGroup g, SchedSettings s)
        {
            g.Lr = s.Num("base_lr", double.NaN);
            if (s.Flag("cycle_momentum", true))
                g.Momentum = s.Num("base_momentum", 0.8);
            return g;
        }

        double F(double x) =>
            mode switch
            {
                "triangular" => 1.0,
                "triangular2" => 1 / Math.Pow(2.0, x - 1),
                _ => Math.Pow(γ, x),
            };

        protected override double GetLr()
        {
            double cycle = Math.Floor(1 + lastEpoch / total),
                x = 1.0 + lastEpoch / total - cycle;
            double scale = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
            // scale_mode: iterations for exp_range, cycle otherwise
            double at = mode == "exp_range" ? lastEpoch : cycle;
            double lr = baseLr + (maxLr - baseLr) * scale * F(at);
            if (cycleMomentum)
                g.Momentum = maxMomentum - (maxMomentum - baseMomentum) * scale * F(at);
            return lr;
        }
    }

    /// <summary>
    /// OneCycleLR (Smith and Topin 2018): from max_lr/div_factor up to max_lr over pct_start of the steps, then down to
    /// initial/final_div_factor (three_phase: down to initial first, then to the minimum), annealed by cosine or
    /// linearly; momentum the other way between max_momentum and base_momentum.
    /// </summary>
    sealed class OneCycleLR : SchedulerReference
    {
        readonly (double End, double StartLr, double EndLr, double StartM, double EndM)[] phases;
        readonly bool cos,
            cycleMomentum;

        public OneCycleLR(LrGroup g, SchedSettings s)
            : base(Prepare(g, s, out double initial, out double max, out double min), initialStep: false)
        {
            int total = s.Given.ContainsKey("total_steps")
                ? s.Int("total_steps", 0)
                : s.Int("epochs", 0) * s.Int("steps_per_epoch", 0);
            double pct = s.Num("pct_start", 0.3),
                mMax = s.Num("max_momentum", 0.95),
                mBase = s.Num("base_momentum", 0.85);
            cos = s.Text("anneal_strategy", "cos") == "cos";
            cycleMomentum = s.Flag("cycle_momentum", true);
            if (cycleMomentum)
                g.Momentum = mMax;
            phases = s.Flag("three_phase", false)
                ?
                [
                    (pct * total - 1, initial, max, mMax, mBase),
                    (2 * pct * total - 2, max, initial, mBase, mMax),
                    (total - 1, initial, min, mMax, mMax),
                ]
                : [(pct * total - 1, initial, max, mMax, mBase), (total - 1, max, min, mBase, mMax)];
            InitialStep();
        }

        static LrGroup Prepare(LrGroup g, SchedSettings s, out double initial, out double max, out double min)
        {
            max = s.Num("max_lr", double.NaN);
            initial = max / s.Num("div_factor", 25.0);
            min = initial / s.Num("final_div_factor", 1e4);
            g.InitialLr = initial;
            return g;
        }

        double Anneal(double start, double end, double pct) =>
            cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;

        protected override double GetLr()
        {
            double start = 0;
            for (int i = 0; i < phases.Length; i++)
            {
                var p = phases[i];
                if (lastEpoch <= p.End || i == phases.Length - 1)
                {
                    double pct = (lastEpoch - start) / (p.End - start);
                    if (cycleMomentum)
                        g.Momentum = Anneal(p.StartM, p.EndM, pct);
                    return Anneal(p.StartLr, p.EndLr, pct);
                }
                start = p.End;
            }
            throw new InvalidOperationException("no phase");
        }
    }
}
