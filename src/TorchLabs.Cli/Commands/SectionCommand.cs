using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>
/// A command for a report lab with no options of its own: prints its section as Markdown (also saved as OUT/ID.md, with
/// the figures in OUT/figures), or with --format json the lab's numbers as one object.
/// </summary>
public static class SectionCommand
{
    public static Command Create(ReportLab lab, Func<LabContext, object> json)
    {
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out($"out/{lab.Id}");
        var threads = CommonOptions.Threads();
        var data = CommonOptions.Data();
        var format = CommonOptions.Format();
        var cmd = new Command(lab.Id, lab.Summary) { seed, outDir, threads, data, format };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                var dev = CommonOptions.Setup(p.GetValue(threads), "cpu");
                // checked when the command line was parsed (CommonOptions.Out)
                string dir = Path.GetFullPath(p.GetValue(outDir)!);
                var context = new LabContext(
                    dir,
                    p.GetValue(seed),
                    Path.GetFullPath(p.GetValue(data)!),
                    dev,
                    new StatusLine(Console.Error),
                    p.GetValue(threads),
                    ShowSettings: Outcome.Flags
                );
                Runtime.TorchRuntime.SetThreads(context.Threads, lab.DefaultThreads(context));
                var availability = lab.Check(context);
                if (!availability.CanRun)
                    throw new Runtime.UsageException($"{lab.Id}: {availability.Reason}; {availability.Fix}");
                if (p.GetValue(format) == "json")
                {
                    Json.Print(json(context));
                    return Outcome.Ok;
                }
                // The time taken is left out of stdout, so that the same seed prints the same bytes; the report shows
                // it.
                var section = lab.Run(context) with { Elapsed = TimeSpan.Zero };
                Figures.Write(section.Blocks, dir);
                string markdown = ReportWriter.ToMarkdown(new Report(lab.Title, [], [section]));
                Runtime.AtomicFile.WriteAllText(Path.Combine(dir, lab.Id + ".md"), markdown);
                Console.Out.Write(markdown);
                return Outcome.Ok;
            })
        );
        return cmd;
    }

    /// <summary>The console renderer: writes the figures to OUT/figures, prints the tables and text as Markdown on
    /// stdout and the figures' paths on stderr.</summary>
    public static void PrintBlocks(string title, IReadOnlyList<Block> blocks, string outDir)
    {
        var written = Figures.Write(blocks, outDir);
        var text = blocks.Where(b => b is not Figure).ToList();
        Console.Out.Write(
            ReportWriter.ToMarkdown(
                new Report(title, [], [new ReportSection("results", "Results", SectionStatus.Ran, text, TimeSpan.Zero)])
            )
        );
        if (written.Count > 0)
            Console.Error.WriteLine("figures: " + string.Join(", ", written));
    }
}
