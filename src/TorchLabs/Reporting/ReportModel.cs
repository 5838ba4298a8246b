namespace TorchLabs.Reporting;

/// <summary>One piece of a report section; rendered both to Markdown and to HTML.</summary>
public abstract record Block;

/// <summary>A paragraph of plain text (Markdown inline code in backticks is kept in both renderings).</summary>
public sealed record Paragraph(string Text) : Block;

/// <summary>A table with a header row; every row has the header's number of cells.</summary>
public sealed record Table(
    IReadOnlyList<string> Header,
    IReadOnlyList<IReadOnlyList<string>> Rows,
    string? Caption = null
) : Block
{
    /// <summary>A table of one row per item, each column given as its header beside how its cell is written.</summary>
    public static Table Of<T>(IEnumerable<T> items, params (string Header, Func<T, string> Cell)[] columns) =>
        new(
            [.. columns.Select(c => c.Header)],
            [.. items.Select(item => (IReadOnlyList<string>)[.. columns.Select(c => c.Cell(item))])]
        );
}

/// <summary>
/// A PNG figure, referenced by a path relative to the output folder. Labs return figures as values: <see
/// cref="Render"/> makes the PNG's bytes, and whoever shows the block (the report writer, a command's console output)
/// writes them with <see cref="Figures.Write"/>.
/// </summary>
public sealed record Figure(string RelativePath, string Caption) : Block
{
    /// <summary>Makes the PNG bytes; null for a figure that is already on disk.</summary>
    public Func<byte[]>? Render { get; init; }
}

/// <summary>Text shown as is in a monospaced block (console logs, formulas).</summary>
public sealed record Preformatted(string Text) : Block;

/// <summary>Whether a lab ran, or was skipped with a reason and the command that fixes it.</summary>
public enum SectionStatus
{
    Ran,
    Skipped,
    Failed,
}

/// <summary>A lab's part of the report.</summary>
public sealed record ReportSection(
    string Id,
    string Title,
    SectionStatus Status,
    IReadOnlyList<Block> Blocks,
    TimeSpan Elapsed
)
{
    /// <summary>libtorch's intra-op threads while the lab ran (null: not recorded).</summary>
    public int? Threads { get; init; }

    /// <summary>The lab's headline number for the report's verdict block (accuracy, largest error, agreement,
    /// …).</summary>
    public string? KeyNumber { get; init; }

    public static ReportSection Skipped(string id, string title, string reason, string fix) =>
        new(
            id,
            title,
            SectionStatus.Skipped,
            [new Paragraph($"Skipped: {reason}"), new Paragraph($"To run it: `{fix}`")],
            TimeSpan.Zero
        )
        {
            KeyNumber = $"{reason}; to run it: `{fix}`",
        };
}

/// <summary>The whole report: a header and one section per lab.</summary>
public sealed record Report(
    string Title,
    IReadOnlyList<(string Key, string Value)> Header,
    IReadOnlyList<ReportSection> Sections
);
