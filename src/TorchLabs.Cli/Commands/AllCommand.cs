using System.CommandLine;
using Spectre.Console;
using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs all`: every registered lab that can run here, into one report (index.html and README.md).</summary>
public static class AllCommand
{
    public static Command Create()
    {
        var outDir = CommonOptions.Out("report");
        var seed = CommonOptions.Seed();
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var data = CommonOptions.Data();
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these labs (by id: " + string.Join(", ", LabRegistry.All.Select(l => l.Id)) + ")",
            AllowMultipleArgumentsPerToken = true,
        };
        var format = CommonOptions.Format();
        var cmd = new Command("all", "Run every lab that can run here and write the report: OUT/index.html and OUT/README.md with figures")
            { outDir, seed, threads, device, data, only, format };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            var dev = CommonOptions.Setup(p.GetValue(threads), p.GetValue(device)!);
            var labs = LabRegistry.All;
            string[]? chosen = p.GetValue(only);
            if (chosen is { Length: > 0 })
            {
                var unknown = chosen.Where(c => labs.All(l => l.Id != c)).ToList();
                if (unknown.Count > 0)
                    throw new Runtime.UsageException($"--only {string.Join(",", unknown)}: unknown lab; expected one of " +
                        $"{string.Join(", ", labs.Select(l => l.Id))}");
                labs = labs.Where(l => chosen.Contains(l.Id)).ToList();
            }
            string dir = Path.GetFullPath(p.GetValue(outDir)!);
            IReadOnlyList<ReportRunner.LabOutcome> outcomes = [];
            IReadOnlyList<ReportRunner.LabOutcome> RunAll(IProgress<string> progress, Action<IReportLab> onStart,
                Action<ReportRunner.LabOutcome> onDone) =>
                ReportRunner.Run(new LabContext(dir, p.GetValue(seed), Path.GetFullPath(p.GetValue(data)!), dev, progress,
                    p.GetValue(threads)), labs, onStart: (lab, _) => onStart(lab), onDone: onDone);
            if (Console.IsErrorRedirected)
            {
                // A log (CI, `| tee`, a file): one plain line per stage, no redrawn bars.
                var log = new PlainProgress(Console.Error);
                outcomes = RunAll(log, lab => log.Stage(lab.Id, "started"),
                    o => log.Stage(o.Lab.Id, $"{o.Section.Status.ToString().ToLowerInvariant()} in {o.Section.Elapsed.TotalSeconds:F1} s"));
            }
            else
                Consoles.Err.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn(),
                        new SpinnerColumn())
                    .Start(ctx =>
                    {
                        var tasks = labs.ToDictionary(l => l.Id, l => ctx.AddTask(Markup.Escape(l.Id), autoStart: false, maxValue: 1));
                        ProgressTask? current = null;
                        var progress = new SyncProgress<string>(m =>
                            { if (current is not null) current.Description = Markup.Escape($"{current.Description.Split(':')[0]}: {m}"); });
                        outcomes = RunAll(progress, lab => { current = tasks[lab.Id]; current.StartTask(); }, o =>
                        {
                            var t = tasks[o.Lab.Id];
                            t.Description = Markup.Escape(o.Lab.Id + ": " + o.Section.Status.ToString().ToLowerInvariant());
                            t.Value = 1;
                            t.StopTask();
                        });
                    });
            foreach (var o in outcomes.Where(o => o.Section.Status == SectionStatus.Skipped))
                Console.Error.WriteLine($"skipped {o.Lab.Id}: {((Reporting.Paragraph)o.Section.Blocks[0]).Text}");
            foreach (var o in outcomes.Where(o => o.Error is not null))
                Console.Error.WriteLine($"failed {o.Lab.Id}: {o.Error}");
            Console.Error.WriteLine($"report written: {Path.Combine(dir, "index.html")} and {Path.Combine(dir, "README.md")}");
            if (p.GetValue(format) == "json")
                Json.Print(new
                {
                    report = Path.Combine(dir, "index.html"),
                    labs = outcomes.Select(o => new
                    {
                        id = o.Lab.Id, title = o.Lab.Title, status = o.Section.Status switch
                        {
                            SectionStatus.Ran => "passed",
                            SectionStatus.Failed => "failed",
                            _ => "skipped"
                        },
                        keyNumber = o.Section.KeyNumber, seconds = o.Section.Elapsed.TotalSeconds, threads = o.Section.Threads,
                        error = o.Error,
                    }),
                });
            return outcomes.Any(o => o.Error is not null) ? Outcome.Failed : Outcome.Ok;
        }));
        return cmd;
    }
}
