using ScottPlot;
using TorchLabs.Runtime;

namespace TorchLabs.Reporting;

/// <summary>Saves ScottPlot figures as PNG files, atomically, and returns the report block that shows them.</summary>
public static class Figures
{
    public const int DefaultWidth = 900;
    public const int DefaultHeight = 520;

    /// <summary>
    /// Writes <paramref name="plot"/> to OUT/figures/NAME.png and returns a <see cref="Figure"/> whose path is
    /// relative to <paramref name="outDir"/>, as the report references it.
    /// </summary>
    public static Figure Save(Plot plot, string outDir, string name, string caption, int width = DefaultWidth, int height = DefaultHeight)
    {
        string relative = RelativePath(name);
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(Path.Combine(outDir, relative), png);
        return new Figure(relative, caption);
    }

    /// <summary>figures/NAME.png, with NAME reduced to lower-case letters, digits, '.', '_' and '-' (spaces become '-').</summary>
    public static string RelativePath(string name) =>
        "figures/" + new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray()) + ".png";

    /// <summary>Renders <paramref name="panels"/> side by side into one PNG (the classic five-panel layout).</summary>
    public static Figure SaveRow(IReadOnlyList<Plot> panels, string outDir, string name, string caption, int panelWidth, int panelHeight)
    {
        using var row = new SkiaSharp.SKBitmap(panelWidth * panels.Count, panelHeight);
        using (var canvas = new SkiaSharp.SKCanvas(row))
        {
            canvas.Clear(SkiaSharp.SKColors.White);
            for (int i = 0; i < panels.Count; i++)
            {
                using var panel = SkiaSharp.SKBitmap.Decode(panels[i].GetImageBytes(panelWidth, panelHeight, ImageFormat.Png));
                canvas.DrawBitmap(panel, i * panelWidth, 0);
            }
        }
        using var data = row.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        string relative = RelativePath(name);
        AtomicFile.WriteAllBytes(Path.Combine(outDir, relative), data.ToArray());
        return new Figure(relative, caption);
    }
}
