using ScottPlot;

namespace TorchLabs.Reporting;

/// <summary>
/// Figures as values: <see cref="Of"/> and <see cref="Row"/> describe a PNG without writing it; <see cref="Write"/>
/// writes the figures of a list of blocks, atomically, under OUT/figures (the renderers call it: the report writer and
/// the commands).
/// </summary>
public static class Figures
{
    public const int DefaultWidth = 900;
    public const int DefaultHeight = 520;

    /// <summary>A figure of <paramref name="plot"/> at figures/NAME.png (relative to the output folder), rendered when
    /// written.</summary>
    public static Figure Of(
        Plot plot,
        string name,
        string caption,
        int width = DefaultWidth,
        int height = DefaultHeight
    ) => new(RelativePath(name), caption) { Render = () => plot.GetImageBytes(width, height, ImageFormat.Png) };

    /// <summary>figures/NAME.png, with NAME reduced to lower-case letters, digits, '.', '_' and '-' (spaces become
    /// '-').</summary>
    public static string RelativePath(string name) =>
        "figures/"
        + new string(
            name.ToLowerInvariant()
                .Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-')
                .ToArray()
        )
        + ".png";

    /// <summary><paramref name="panels"/> side by side in one PNG (the classic five-panel layout).</summary>
    public static Figure Row(
        IReadOnlyList<Plot> panels,
        string name,
        string caption,
        int panelWidth,
        int panelHeight
    ) =>
        new(RelativePath(name), caption)
        {
            Render = () =>
            {
                using var row = new SkiaSharp.SKBitmap(panelWidth * panels.Count, panelHeight);
                using (var canvas = new SkiaSharp.SKCanvas(row))
                {
                    canvas.Clear(SkiaSharp.SKColors.White);
                    for (int i = 0; i < panels.Count; i++)
                    {
                        using var panel = SkiaSharp.SKBitmap.Decode(
                            panels[i].GetImageBytes(panelWidth, panelHeight, ImageFormat.Png)
                        );
                        canvas.DrawBitmap(panel, i * panelWidth, 0);
                    }
                }
                using var data = row.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
                return data.ToArray();
            },
        };

    /// <summary>Writes every figure among <paramref name="blocks"/> to <paramref name="outDir"/> (atomically) and
    /// returns their full paths.</summary>
    public static IReadOnlyList<string> Write(IEnumerable<Block> blocks, string outDir)
    {
        var written = new List<string>();
        foreach (var f in blocks.OfType<Figure>())
        {
            string path = Path.Combine(outDir, f.RelativePath);
            if (f.Render is not null)
                AtomicFile.WriteAllBytes(path, f.Render());
            written.Add(Path.GetFullPath(path));
        }
        return written;
    }
}
