namespace TorchLabs.Reporting;

/// <summary>
/// TensorBoard event files for one training run, as a PyTorch user's <c>SummaryWriter(log_dir)</c> would write them:
/// scalars, histograms of every parameter and its gradient, images and text. Everything goes through TorchSharp's own
/// <c>torch.utils.tensorboard.SummaryWriter</c> (TFRecord framing with masked CRC-32C, <c>tensorboard.Event</c>
/// protos); this class only names the tags the way PyTorch users do and keeps the libtorch temporaries of the
/// histograms in a dispose scope. View with <c>tensorboard --logdir DIR</c>.
/// </summary>
public sealed class TensorBoardLog
{
    readonly TorchSharp.Modules.SummaryWriter writer;

    /// <summary>Writes into <paramref name="directory"/> (created if missing); one events.out.tfevents.* file per
    /// log.</summary>
    public TensorBoardLog(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        writer = utils.tensorboard.SummaryWriter(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The run's folder.</summary>
    public string Directory { get; }

    /// <summary>One scalar (stored as float32, as every TensorBoard scalar is): <c>add_scalar(tag, value,
    /// step)</c>.</summary>
    public void Scalar(string tag, double value, int step) => Record(() => writer.add_scalar(tag, (float)value, step));

    /// <summary>
    /// One record, written whole or not at all: on a full disk the event file is cut back to its length before the
    /// record (so no torn record is left for TensorBoard to stop at) and the run ends with <see
    /// cref="Runtime.DiskFullException"/>, which the CLI reports in one line.
    /// </summary>
    void Record(Action write)
    {
        string? file = EventFile();
        long before = file is null ? 0 : new FileInfo(file).Length;
        try
        {
            write();
            eventFile ??= EventFile();
        }
        catch (IOException e) when (Runtime.DiskFullException.IsDiskFull(e))
        {
            file ??= EventFile();
            if (file is not null)
                using (var f = new FileStream(file, FileMode.Open, FileAccess.Write))
                    f.SetLength(before);
            throw new Runtime.DiskFullException(file ?? Directory, e);
        }
    }

    /// <summary>This log's event file: the newest events.out.tfevents.* of the folder, kept once a record has been
    /// written to it (so the folder is not listed for every record).</summary>
    string? EventFile() =>
        eventFile
        ?? new DirectoryInfo(Directory)
            .GetFiles("events.out.tfevents.*")
            .OrderBy(f => f.LastWriteTimeUtc)
            .LastOrDefault()
            ?.FullName;

    string? eventFile;

    /// <summary>Histograms of every parameter (<c>parameters/NAME</c>) and of its gradient (<c>gradients/NAME</c>, when
    /// it has one), with TensorFlow's default buckets, as <c>add_histogram</c>. Tensors with a non-finite element are
    /// left out (TensorBoard's histogram refuses them); the count left out is returned.</summary>
    public int Histograms(nn.Module module, int step)
    {
        int skipped = 0;
        foreach (var (name, p) in module.named_parameters())
        {
            skipped += Histogram("parameters/" + name, p, step);
            if (p.grad is Tensor g)
                skipped += Histogram("gradients/" + name, g, step);
        }
        return skipped;
    }

    /// <summary>A value inside the outermost of TensorFlow's default histogram buckets, whose limits are ±1e-12·1.1ᵏ
    /// below 1e20.</summary>
    public const double OutermostBucket = 9e19;

    int Histogram(string tag, Tensor values, int step)
    {
        using var scope = NewDisposeScope();
        var v = values.detach().cpu();
        if (v.numel() == 0 || !v.isfinite().all().item<bool>())
            return 1;
        // TensorFlow's default buckets (±1e-12·1.1ᵏ up to 1e20) drop what lies beyond them, and a histogram of nothing
        // is refused: finite values past ±9e19 are counted in the outermost buckets instead (docs/commands.md,
        // TensorBoard).
        Record(() => writer.add_histogram(tag, v.clamp(-OutermostBucket, OutermostBucket), step));
        return 0;
    }

    /// <summary>An encoded image (PNG) as <c>add_image</c> gives it to TensorBoard. TorchSharp's writer takes images
    /// from a tensor or a file: the PNG goes through a temporary file that is deleted afterwards.</summary>
    public void Image(string tag, byte[] png, int step)
    {
        string tmp = Path.Combine(Directory, $".image-{Environment.ProcessId}.png");
        try
        {
            Record(() =>
            {
                File.WriteAllBytes(tmp, png);
                writer.add_img(tag, tmp, step);
            });
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    /// <summary>Text (Markdown) as <c>add_text</c>; the tag gets TensorBoard's <c>/text_summary</c> suffix.</summary>
    public void Text(string tag, string markdown, int step) => Record(() => writer.add_text(tag, markdown, step));

    /// <summary>A fixed-width block (a model summary) as Markdown: each line indented by four spaces, so TensorBoard
    /// shows it as code.</summary>
    public static string Code(string text) => string.Join("\n", text.Split('\n').Select(l => "    " + l.TrimEnd('\r')));
}
