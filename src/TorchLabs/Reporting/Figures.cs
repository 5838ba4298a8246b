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
        string relative = $"figures/{name}.png";
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(Path.Combine(outDir, relative), png);
        return new Figure(relative, caption);
    }
}
