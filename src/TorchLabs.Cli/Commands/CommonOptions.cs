using System.Globalization;

namespace TorchLabs.Cli.Commands;

/// <summary>The options every lab spells the same way (docs/design.md).</summary>
public static class CommonOptions
{
    /// <summary>Each lab command's binder (its options built and validated as for a run, no work done), by command, so
    /// that `sweep` checks a trial's settings as the lab does: a grid value the lab refuses (optimizer=lbfgs, epochs=0)
    /// is exit 2 before the plan is written.</summary>
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, Action<ParseResult>> Binders = new();

    /// <summary>Makes <paramref name="bind"/> the way <see cref="Validate"/> checks a command line of <paramref
    /// name="command"/>.</summary>
    public static void RegisterBinder(Command command, Action<ParseResult> bind) => Binders.AddOrUpdate(command, bind);

    /// <summary>The lab's one-line refusal of a parsed command line (as the command would print it), or null when the
    /// lab takes it (or the command has no binder).</summary>
    public static string? Validate(ParseResult parsed)
    {
        if (!Binders.TryGetValue(parsed.CommandResult.Command, out var bind))
            return null;
        try
        {
            bind(parsed);
            return null;
        }
        catch (UsageException e)
        {
            return Printable.Escape(Outcome.Flags(e.Template), 600);
        }
    }

    public const long DefaultSeed = Seeds.Default;

    public static Option<long> Seed(string? meaning = null) =>
        new("--seed")
        {
            Description = meaning ?? "Seed of every random draw; the same seed gives the same numbers",
            DefaultValueFactory = _ => DefaultSeed,
        };

    /// <summary>--out: checked when the command line is parsed, before any work (<see
    /// cref="OutputFolder.Problem"/>).</summary>
    public static Option<string> Out(string defaultDir)
    {
        var o = new Option<string>("--out")
        {
            Description =
                $"Output folder for results, figures and reports (default: {defaultDir}; created when missing)",
            DefaultValueFactory = _ => defaultDir,
        };
        o.Validators.Add(result =>
        {
            if (OutputFolder.Problem(result.GetValueOrDefault<string>() ?? "") is string problem)
                result.AddError(Outcome.Flags(problem));
        });
        return o;
    }

    /// <summary>--tensorboard DIR: event files for TensorBoard (checked like --out when the command line is
    /// parsed).</summary>
    public static Option<string?> TensorBoard()
    {
        var o = new Option<string?>("--tensorboard")
        {
            Description =
                "Also write TensorBoard event files into this folder (scalars, histograms, images, the model summary); view them with `tensorboard --logdir DIR`",
        };
        o.Validators.Add(result =>
        {
            if (
                result.GetValueOrDefault<string?>() is string dir
                && OutputFolder.Problem(dir, Setting.Of("tensorboard")) is string problem
            )
                result.AddError(Outcome.Flags(problem));
        });
        return o;
    }

    public static Option<string> Format()
    {
        var o = new Option<string>("--format")
        {
            Description = "text (tables for people) or json (one object on stdout)",
            DefaultValueFactory = _ => "text",
        };
        o.AcceptOnlyFromAmong("text", "json");
        return o;
    }

    public static Option<string> Device() =>
        new("--device")
        {
            Description = "cpu, cuda or cuda:N (CUDA needs a build made with -p:TorchBackend=cuda)",
            DefaultValueFactory = _ => "cpu",
        };

    public static Option<int?> Threads() =>
        new("--threads")
        {
            Description =
                "libtorch intra-op threads (default: chosen by the work: 1 for small batches and small ops, all cores for large ones; 0: all cores)",
        };

    /// <summary>--impl, in the words every command shares (Runtime/Impl), <paramref name="allowed"/> here, the first
    /// the default; an old word (autograd, both) is refused with the new one named.</summary>
    public static Option<string> Impl(string description, params string[] allowed)
    {
        var o = new Option<string>("--impl")
        {
            Description = $"{description} ({string.Join(", ", allowed)}; default {allowed[0]})",
            DefaultValueFactory = _ => allowed[0],
        };
        o.Validators.Add(result =>
        {
            if (TorchLabs.Runtime.Impl.Problem(result.GetValueOrDefault<string>(), allowed) is string problem)
                result.AddError(Outcome.Flags(problem));
        });
        return o;
    }

    /// <summary>--data: a folder name, checked when the command line is parsed (an empty one is bad input, not an
    /// internal error).</summary>
    public static Option<string> Data()
    {
        var o = new Option<string>("--data")
        {
            Description = "Folder where datasets are found or downloaded (default: $TORCHLABS_DATA or ./data)",
            DefaultValueFactory = _ =>
                Environment.GetEnvironmentVariable("TORCHLABS_DATA") is { Length: > 0 } d ? d : "data",
        };
        o.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            if (value.Trim().Length == 0 || value.Contains('\0'))
                result.AddError($"--data {Printable.Quote(value)}: expected a folder name");
        });
        return o;
    }

    /// <summary>Applies --threads (or the command's <paramref name="defaultThreads"/>) and resolves --device; both
    /// raise <see cref="UsageException"/> on bad values.</summary>
    public static TorchSharp.torch.Device Setup(int? threads, string device, int defaultThreads = 1)
    {
        TorchRuntime.SetThreads(threads, defaultThreads);
        return TorchRuntime.ResolveDevice(device);
    }

    /// <summary>Adds a binder's options and arguments (its <c>Symbols</c>) to <paramref name="command"/>.</summary>
    public static Command With(this Command command, IEnumerable<Symbol> symbols)
    {
        foreach (var symbol in symbols)
        {
            if (symbol is Option option)
                command.Options.Add(option);
            else
                command.Arguments.Add((Argument)symbol);
        }
        return command;
    }

    /// <summary>Parses a comma-separated list of at least <paramref name="minCount"/> positive whole numbers.</summary>
    public static int[] ParseSizes(string text, string option = "--sizes", int minCount = 2)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        if (
            parts.Length < minCount
            || parts
                .Select(
                    (v, i) =>
                        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out sizes[i])
                        && sizes[i] > 0
                )
                .Any(ok => !ok)
        )
            throw new UsageException(
                $"{option} {text}: expected {(minCount > 1 ? $"at least {minCount}" : "one or more")} positive "
                    + $"whole numbers separated by commas, e.g. 4,6,5,3"
            );
        return sizes;
    }
}
