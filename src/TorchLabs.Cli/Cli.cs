using TorchLabs.Cli.Commands;

namespace TorchLabs.Cli;

/// <summary>
/// The `torchlabs` command: one sub-command per lab, plus `all` and `info`.
/// Exit codes: 0 success, 2 bad input (one line on stderr, no stack trace), 1 anything else.
/// </summary>
public static class Cli
{
    public const int Ok = Outcome.Ok,
        Failed = Outcome.Failed,
        BadInput = Outcome.BadInput;

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "TorchLabs: deep-learning labs on TorchSharp (libtorch), with hand-derived mathematics checked against autograd."
        );
        // Each command lives in its own file under Commands/: the main job, the tutorial, the labs, the tools for
        // checking and measuring, and the report sections that have no lab command of their own.
        Command[][] groups =
        [
            [AllCommand.Create(), InfoCommand.Create()],
            [Cifar10Command.Create(), PredictCommand.Create()],
            [GradCheckCommand.Create(), OptimizersCommand.Create(), VanishingCommand.Create()],
            [HistogramsCommand.Create(), FashionMnistCommand.Create(), VectorBackpropCommand.Create()],
            [BenchCommand.Create(), ConformanceCommand.Create(), SweepCommand.Create(BuildRoot)],
            [
                SectionCommand.Create(new RegressionReportLab(), c => RegressionLab.ToJson(RegressionLab.Run(c.Seed))),
                SectionCommand.Create(new PerceptronReportLab(), _ => PerceptronLab.ToJson(PerceptronLab.RunBoth())),
                SectionCommand.Create(new ErrataLab(), c => ErrataLab.ToJson(ErrataLab.Collect(c.Seed))),
            ],
        ];
        foreach (var command in groups.SelectMany(g => g))
            root.Subcommands.Add(command);
        return root;
    }

    public static int Run(string[] args)
    {
        var root = BuildRoot();
        // No response files: an argument such as @notes.png (a user's file name) is a file name, never a list of
        // options.
        ParseResult parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (args.Length == 0)
        {
            root.Parse("--help").Invoke();
            return BadInput;
        }
        if (parse.Errors.Count > 0)
        {
            // "Unrecognized command or argument 'x'" says more than the "Required command was not provided" that comes
            // with it.
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal))
                ?? parse.Errors[0];
            string message = string.Join(
                ' ',
                error.Message.Split(
                    ['\n', '\r', '\t'],
                    StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
                )
            );
            string? option = (error.SymbolResult as System.CommandLine.Parsing.OptionResult)?.Option.Name
                ?? (
                    (error.SymbolResult as System.CommandLine.Parsing.ArgumentResult)?.Parent
                    as System.CommandLine.Parsing.OptionResult
                )
                    ?.Option
                    .Name;
            if (option is not null && !message.Contains(option, StringComparison.Ordinal))
                message = $"{option}: {message}";
            // The message quotes the argument as given: escaped like every line the CLI writes (no ESC, BEL or U+202E
            // reaches a terminal).
            Console.Error.WriteLine($"torchlabs: {Printable.Escape(message, 600)} (see `torchlabs --help`)");
            return BadInput;
        }
        TorchRuntime.Initialize();
        return parse.Invoke();
    }
}
