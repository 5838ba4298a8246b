namespace TorchLabs.Reporting;

/// <summary>What every lab is given by `torchlabs all` (and by its own command).</summary>
/// <param name="OutDir">The report folder; figures go to OUT/figures.</param>
/// <param name="Seed">The seed every random draw of the lab derives from.</param>
/// <param name="DataDir">Where datasets are looked for.</param>
/// <param name="Device">The libtorch device to compute on.</param>
/// <param name="Progress">Receives short progress messages (rendered on stderr), or null.</param>
/// <param name="Threads">--threads when given (0: all cores); null lets each lab use its own default (<see
/// cref="ReportLab.DefaultThreads"/>).</param>
/// <param name="Quick">Every lab at its smallest settings (`torchlabs all --quick`): a smoke run of the whole report in
/// about a minute, whose numbers are not the documents' (the labs whose settings shrink say so in their key
/// number).</param>
/// <param name="ShowSettings">How the front end shows the settings (‹name›, <see cref="Setting.Of"/>) in the text the
/// report carries, such as a skipped lab's fix (the command line: its flags); null shows their plain names.</param>
public sealed record LabContext(
    string OutDir,
    long Seed,
    string DataDir,
    torch.Device Device,
    IProgress<string>? Progress = null,
    int? Threads = null,
    bool Quick = false,
    Func<string, string>? ShowSettings = null
)
{
    public void Report(string message) => Progress?.Report(message);

    /// <summary><paramref name="text"/> with its settings as the front end shows them (<see
    /// cref="ShowSettings"/>).</summary>
    public string Shown(string text) => ShowSettings?.Invoke(text) ?? Setting.Plain(text);
}

/// <summary>Whether a lab can run on this machine; when not, why, and the command that fixes it.</summary>
public sealed record Availability(bool CanRun, string? Reason = null, string? Fix = null)
{
    public static readonly Availability Yes = new(true);

    public static Availability No(string reason, string fix) => new(false, reason, fix);
}
