using System.Globalization;
using TorchLabs.Reference;

namespace TorchLabs.Cli.Commands;

/// <summary>What `torchlabs conformance scheduler` was asked, checked.</summary>
/// <param name="Given">The --set items as KEY → VALUE text (for the JSON).</param>
sealed record SchedulerConformanceRequest(SchedulerConformance.Run Run, IReadOnlyDictionary<string, string> Given);

/// <summary>`torchlabs conformance scheduler`'s options, bound into a <see
/// cref="SchedulerConformanceRequest"/>.</summary>
sealed class SchedulerConformanceOptions
{
    readonly Argument<string> name = new("NAME")
    {
        Description =
            "PyTorch's class name, any case: " + string.Join(", ", SchedulerReference.Names) + " (or ChainedLR)",
    };
    readonly Option<string[]> set = new("--set")
    {
        Description =
            "A setting in PyTorch's words, KEY=VALUE (step_size=3, milestones=2,5, mode=exp_range, lr_lambda=pow:0.95, schedulers=ConstantLR(factor=0.5;total_iters=2)+ExponentialLR(gamma=0.9)); repeat for more",
    };
    readonly Option<double> lr = new("--lr") { Description = "SGD's learning rate", DefaultValueFactory = _ => 0.1 };
    readonly Option<double> momentum = new("--momentum")
    {
        Description = "SGD's momentum",
        DefaultValueFactory = _ => 0,
    };
    readonly Option<int> steps = new("--steps")
    {
        Description = "scheduler.step() calls",
        DefaultValueFactory = _ => 20,
    };
    readonly Option<string?> metrics = new("--metrics")
    {
        Description =
            "ReduceLROnPlateau's metric at each step, M1,M2,… (the last repeats; default: a fixed sequence with plateaus)",
    };
    readonly Option<string> format = CommonOptions.Format();

    public IEnumerable<Symbol> Symbols => [name, set, lr, momentum, steps, metrics, format];

    public (SchedulerConformanceRequest Request, bool Json) Bind(ParseResult p)
    {
        CommonOptions.Setup(1, "cpu");
        string scheduler = SchedulerConformance.Name(p.GetValue(name)!);
        string[] items = p.GetValue(set) ?? [];
        var settings = SchedulerConformance.Parse(scheduler, items);
        double l = p.GetValue(lr),
            m = p.GetValue(momentum);
        Require.LearningRate(l);
        // CyclicLR and OneCycleLR with momentum 0: PyTorch 1.13 takes it (SGD has a momentum entry) and cycles the
        // momentum from base_momentum and max_momentum, which overwrite the 0.
        if (!double.IsFinite(m) || m < 0 || m >= 1)
            throw new UsageException($"--momentum {m}: expected a number in [0, 1)");
        int n = p.GetValue(steps);
        if (n is < 1 or > 100_000)
            throw new UsageException($"--steps {n}: expected 1 to 100000");
        if (scheduler == "OneCycleLR")
        {
            int total = settings.Given.ContainsKey("total_steps")
                ? settings.Int("total_steps", 0)
                : settings.Int("epochs", 0) * settings.Int("steps_per_epoch", 0);
            if (n >= total)
                throw new UsageException(
                    $"--steps {n}: OneCycleLR with {total} total steps takes at most {total - 1} steps"
                );
        }
        double[]? series = p.GetValue(metrics) is string text
            ?
            [
                .. text.Split(',')
                    .Select(v =>
                        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
                        && double.IsFinite(x)
                            ? x
                            : throw new UsageException(
                                $"--metrics {Printable.Quote(text)}: expected finite numbers separated by commas"
                            )
                    ),
            ]
            : null;
        var given = items.ToDictionary(x => x.Split('=')[0], x => x.Contains('=') ? x[(x.IndexOf('=') + 1)..] : "");
        return (
            new SchedulerConformanceRequest(new(scheduler, settings, l, m, n, series), given),
            p.GetValue(format) == "json"
        );
    }
}
