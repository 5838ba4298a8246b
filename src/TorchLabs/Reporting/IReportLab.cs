namespace TorchLabs.Reporting;

/// <summary>A lab that contributes a section to the report of `torchlabs all`.</summary>
public interface IReportLab
{
    /// <summary>The section id, and the name of the lab's own command.</summary>
    string Id { get; }
    string Title { get; }

    /// <summary>One line: what the lab shows.</summary>
    string Summary { get; }
    Availability Check(LabContext context);
    ReportSection Run(LabContext context);

    /// <summary>Intra-op threads when --threads is not given (the rule of <see
    /// cref="Runtime.TorchRuntime.ThreadsForBatch"/>): 1 unless the lab's ops are large.</summary>
    int DefaultThreads(LabContext context) => 1;
}
