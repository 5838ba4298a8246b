namespace TorchLabs.Reporting;

/// <summary>A lab that contributes a section to the report of `torchlabs all`.</summary>
/// <param name="id">The section id, and the name of the lab's own command.</param>
/// <param name="title">The section's heading.</param>
/// <param name="summary">One line: what the lab shows.</param>
public abstract class ReportLab(string id, string title, string summary)
{
    public string Id { get; } = id;
    public string Title { get; } = title;
    public string Summary { get; } = summary;

    /// <summary>Whether the section can run here; by default always (the labs that need data say where to get
    /// it).</summary>
    public virtual Availability Check(LabContext context) => Availability.Yes;

    public abstract ReportSection Run(LabContext context);

    /// <summary>Available when the data were found; otherwise what is missing and the command that gets it.</summary>
    protected static Availability WhenFound(object? found, string missing, string command) =>
        found is not null ? Availability.Yes : Availability.No(missing, command);

    /// <summary>Intra-op threads when --threads is not given (the rule of <see
    /// cref="Runtime.TorchRuntime.ThreadsForBatch"/>): 1 unless the lab's ops are large.</summary>
    public virtual int DefaultThreads(LabContext context) => 1;
}
