using System.Diagnostics;
using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.AllLabs;

/// <summary>Runs the registered labs and assembles the report of `torchlabs all`.</summary>
public static class ReportRunner
{
    /// <summary>What happened to one lab, for the progress display and the exit code.</summary>
    public sealed record LabOutcome(ReportLab Lab, ReportSection Section, string? Error);

    /// <summary>A report run as `torchlabs all --format json` prints it.</summary>
    public static object ToJson(string reportDir, IEnumerable<LabOutcome> outcomes) =>
        new
        {
            report = Path.Combine(reportDir, "index.html"),
            labs = outcomes.Select(o => new
            {
                id = o.Lab.Id,
                title = o.Lab.Title,
                status = o.Section.Status switch
                {
                    SectionStatus.Ran => "passed",
                    SectionStatus.Failed => "failed",
                    _ => "skipped",
                },
                keyNumber = o.Section.KeyNumber,
                seconds = o.Section.Elapsed.TotalSeconds,
                threads = o.Section.Threads,
                error = o.Error,
            }),
        };

    /// <summary>
    /// Runs each lab that can run here (others become skipped sections with the reason and the fixing command),
    /// writes OUT/README.md and OUT/index.html, and returns the outcomes.
    /// </summary>
    public static IReadOnlyList<LabOutcome> Run(
        LabContext context,
        IReadOnlyList<ReportLab> labs,
        Action<ReportLab, int>? onStart = null,
        Action<LabOutcome>? onDone = null
    )
    {
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(context.OutDir);
        var outcomes = new List<LabOutcome>();
        for (int i = 0; i < labs.Count; i++)
        {
            var lab = labs[i];
            onStart?.Invoke(lab, i);
            LabOutcome outcome;
            var availability = lab.Check(context);
            if (!availability.CanRun)
            {
                outcome = new(
                    lab,
                    ReportSection.Skipped(
                        lab.Id,
                        lab.Title,
                        availability.Reason ?? "not available here",
                        context.Shown(availability.Fix ?? "")
                    ),
                    null
                );
            }
            else
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    int threads = TorchRuntime.SetThreads(context.Threads, lab.DefaultThreads(context));
                    ReportSection section;
                    // Every tensor the lab made (its models included) is disposed when it is done: its section holds
                    // numbers, not tensors, so a report of many labs does not keep each lab's models for the garbage
                    // collector (#27).
                    using (torch.NewDisposeScope())
                        section = lab.Run(context);
                    outcome = new(lab, section with { Threads = threads, Elapsed = clock.Elapsed }, null);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // One lab's failure does not stop the report: its section shows the error, the others are written.
                    string message = e is UsageException or LabFailedException
                        ? e.Message
                        : $"{e.GetType().Name}: {e.Message}";
                    var failed = new ReportSection(
                        lab.Id,
                        lab.Title,
                        SectionStatus.Failed,
                        [new Paragraph($"Failed: {message}")],
                        clock.Elapsed
                    )
                    {
                        KeyNumber = message,
                    };
                    outcome = new(lab, failed, message);
                }
            }
            outcomes.Add(outcome);
            onDone?.Invoke(outcome);
        }

        var info = TorchRuntime.Describe();
        var header = new List<(string, string)>
        {
            ("generated", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'")),
            ("seed", context.Seed.ToString()),
            ("time taken", $"{total.Elapsed.TotalSeconds:0.0} s"),
            (
                "labs",
                $"{outcomes.Count(o => o.Section.Status == SectionStatus.Ran)} ran, {outcomes.Count(o => o.Section.Status == SectionStatus.Skipped)} skipped, {outcomes.Count(o => o.Section.Status == SectionStatus.Failed)} failed"
            ),
        };
        header.AddRange(InfoLab.RuntimeRows(info));
        header.Add(("device", context.Device.ToString()));
        header.AddRange(MachineInfo.Rows());
        var report = new Report("TorchLabs report", header, outcomes.Select(o => o.Section).ToList());
        ReportWriter.Write(report, context.OutDir);
        return outcomes;
    }
}
