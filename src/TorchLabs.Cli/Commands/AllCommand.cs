using Spectre.Console;
using TorchLabs.AllLabs;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs all`: every registered lab that can run here, into one report (index.html and
/// README.md).</summary>
public static class AllCommand
{
    public static Command Create()
    {
        var options = new AllCommandOptions();
        var cmd = new Command(
            "all",
            "Run every lab that can run here and write the report: OUT/index.html and OUT/README.md with figures"
        ).With(options.Symbols);
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var (labs, context, json) = options.Bind(p);
                var outcomes = Console.IsErrorRedirected ? RunLogged(labs, context) : RunWithBars(labs, context);
                foreach (var o in outcomes.Where(o => o.Section.Status == SectionStatus.Skipped))
                    Console.Error.WriteLine($"skipped {o.Lab.Id}: {((Reporting.Paragraph)o.Section.Blocks[0]).Text}");
                foreach (var o in outcomes.Where(o => o.Error is not null))
                    Console.Error.WriteLine($"failed {o.Lab.Id}: {Printable.Escape(o.Error, 600)}");
                Console.Error.WriteLine(
                    $"report written: {Printable.Path(Path.Combine(context.OutDir, "index.html"))} and {Printable.Path(Path.Combine(context.OutDir, "README.md"))}"
                );
                if (json)
                    Json.Print(ReportRunner.ToJson(context.OutDir, outcomes));
                return outcomes.Any(o => o.Error is not null) ? Outcome.Failed : Outcome.Ok;
            })
        );
        return cmd;
    }

    /// <summary>A log (CI, `| tee`, a file): one plain line per stage, no redrawn bars.</summary>
    static IReadOnlyList<ReportRunner.LabOutcome> RunLogged(IReadOnlyList<ReportLab> labs, LabContext context)
    {
        var log = new PlainProgress(Console.Error);
        return ReportRunner.Run(
            context with
            {
                Progress = log,
            },
            labs,
            onStart: (lab, _) => log.Stage(lab.Id, "started"),
            onDone: o =>
                log.Stage(
                    o.Lab.Id,
                    $"{o.Section.Status.ToString().ToLowerInvariant()} in {o.Section.Elapsed.TotalSeconds:F1} s"
                )
        );
    }

    /// <summary>A terminal: a bar per lab, its current stage in its description.</summary>
    static IReadOnlyList<ReportRunner.LabOutcome> RunWithBars(IReadOnlyList<ReportLab> labs, LabContext context)
    {
        IReadOnlyList<ReportRunner.LabOutcome> outcomes = [];
        Consoles
            .Err.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn()
            )
            .Start(ctx =>
            {
                var tasks = labs.ToDictionary(
                    l => l.Id,
                    l => ctx.AddTask(Markup.Escape(l.Id), autoStart: false, maxValue: 1)
                );
                ProgressTask? current = null;
                var progress = new SyncProgress<string>(m =>
                {
                    if (current is not null)
                        current.Description = Markup.Escape($"{current.Description.Split(':')[0]}: {m}");
                });
                outcomes = ReportRunner.Run(
                    context with
                    {
                        Progress = progress,
                    },
                    labs,
                    onStart: (lab, _) =>
                    {
                        current = tasks[lab.Id];
                        current.StartTask();
                    },
                    onDone: o =>
                    {
                        var t = tasks[o.Lab.Id];
                        t.Description = Markup.Escape(o.Lab.Id + ": " + o.Section.Status.ToString().ToLowerInvariant());
                        t.Value = 1;
                        t.StopTask();
                    }
                );
            });
        return outcomes;
    }
}
