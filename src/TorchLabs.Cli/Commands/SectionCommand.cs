using System.CommandLine;
using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>A command for a report lab with no options of its own: runs it and prints its section as Markdown.</summary>
public static class SectionCommand
{
    public static Command Create(IReportLab lab)
    {
        var seed = CommonOptions.Seed();
        var outDir = CommonOptions.Out($"out/{lab.Id}");
        var threads = CommonOptions.Threads();
        var data = CommonOptions.Data();
        var cmd = new Command(lab.Id, lab.Summary) { seed, outDir, threads, data };
        cmd.SetAction(p => Cli.Guard(() =>
        {
            var dev = CommonOptions.Setup(p.GetValue(threads), "cpu");
            string dir = Path.GetFullPath(p.GetValue(outDir)!);
            var context = new LabContext(dir, p.GetValue(seed), Path.GetFullPath(p.GetValue(data)!), dev, new StatusLine(Console.Error), p.GetValue(threads));
            Runtime.TorchRuntime.SetThreads(context.Threads, lab.DefaultThreads(context));
            var availability = lab.Check(context);
            if (!availability.CanRun) throw new Runtime.UsageException($"{lab.Id}: {availability.Reason}; {availability.Fix}");
            // The time taken is left out of stdout, so that the same seed prints the same bytes; the report shows it.
            var section = lab.Run(context) with { Elapsed = TimeSpan.Zero };
            Console.Out.Write(ReportWriter.ToMarkdown(new Report(lab.Title, [], [section])));
            return Cli.Ok;
        }));
        return cmd;
    }

    /// <summary>Prints a lab's tables and text as Markdown on stdout, and the paths of its figures (written to OUT/figures) on stderr.</summary>
    public static void PrintBlocks(string title, IReadOnlyList<Block> blocks, string outDir)
    {
        var text = blocks.Where(b => b is not Figure).ToList();
        Console.Out.Write(ReportWriter.ToMarkdown(new Report(title, [], [new ReportSection("results", "Results", SectionStatus.Ran, text, TimeSpan.Zero)])));
        var figures = blocks.OfType<Figure>().ToList();
        if (figures.Count > 0)
            Console.Error.WriteLine("figures: " + string.Join(", ", figures.Select(f => Path.Combine(Path.GetFullPath(outDir), f.RelativePath))));
    }
}
