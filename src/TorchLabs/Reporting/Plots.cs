using ScottPlot;
using SkiaSharp;

namespace TorchLabs.Reporting;

/// <summary>Figures that several labs draw: loss curves, confusion matrices, labelled image grids.</summary>
public static class Plots
{
    /// <summary>One or more curves y(x) with a legend; <paramref name="logY"/> puts y on a log10 scale.</summary>
    /// <param name="floor">With <paramref name="logY"/>, values below it are drawn at it (say so in the
    /// caption).</param>
    public static Plot Curves(
        string title,
        string xLabel,
        string yLabel,
        IEnumerable<(string Name, double[] X, double[] Y)> curves,
        bool logY = false,
        double floor = 1e-300
    )
    {
        var plot = new Plot();
        foreach (var (name, x, y) in curves)
        {
            double[] ys = logY ? y.Select(v => Math.Log10(Math.Max(v, floor))).ToArray() : y;
            var s = plot.Add.Scatter(x, ys);
            s.LegendText = name;
            s.MarkerSize = x.Length > 60 ? 0 : 4;
        }
        if (logY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = v => $"1e{v:0}",
            };
        }
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = yLabel;
        plot.ShowLegend();
        return plot;
    }

    /// <summary>One bar per category at its mean with an error bar of ± <paramref name="std"/> (a sweep's
    /// settings).</summary>
    public static Plot ErrorBars(
        string title,
        string xLabel,
        string yLabel,
        string[] categories,
        double[] mean,
        double[] std
    )
    {
        var plot = new Plot();
        double[] x = [.. Enumerable.Range(0, categories.Length).Select(i => (double)i)];
        var bars = plot.Add.Bars(x, mean);
        foreach (var bar in bars.Bars)
            bar.FillColor = bar.FillColor.WithAlpha(0.6);
        var errors = plot.Add.ErrorBar(x, mean, std);
        errors.Color = Colors.Black;
        plot.Axes.Bottom.SetTicks(x, categories);
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = yLabel;
        return plot;
    }

    /// <summary>Curves as their mean with a band of ± one standard deviation, one per series (a sweep's settings over
    /// seeds).</summary>
    public static Plot Bands(
        string title,
        string xLabel,
        string yLabel,
        IEnumerable<(string Name, double[] Mean, double[] Std)> series
    )
    {
        var plot = new Plot();
        foreach (var (name, mean, std) in series)
        {
            double[] x = [.. Enumerable.Range(0, mean.Length).Select(i => (double)i)];
            var band = plot.Add.FillY(x, [.. mean.Zip(std, (m, s) => m - s)], [.. mean.Zip(std, (m, s) => m + s)]);
            var line = plot.Add.Scatter(x, mean);
            line.LegendText = name;
            line.MarkerSize = 0;
            band.FillColor = line.Color.WithAlpha(0.25);
            band.LineWidth = 0;
        }
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = yLabel;
        plot.ShowLegend();
        return plot;
    }

    /// <summary>A confusion matrix as a heat map with the count in each cell; rows are true classes.</summary>
    public static Plot ConfusionMatrix(long[][] counts, string[] classNames, string title)
    {
        int k = classNames.Length;
        var plot = new Plot();
        var values = new double[k, k];
        long max = Math.Max(1, counts.SelectMany(r => r).Max());
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            values[i, j] = counts[i][j];
        var hm = plot.Add.Heatmap(values);
        hm.Colormap = new ScottPlot.Colormaps.Blues().Invert(); // white for 0, dark blue for the largest count
        hm.Extent = new CoordinateRect(-0.5, k - 0.5, k - 0.5, -0.5);
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        {
            var t = plot.Add.Text(counts[i][j].ToString(), j, i);
            t.Alignment = Alignment.MiddleCenter;
            t.LabelFontSize = 12;
            t.LabelFontColor = counts[i][j] > max / 2 ? Colors.White : Colors.Black;
        }
        var ticks = Enumerable.Range(0, k).Select(i => new Tick(i, classNames[i])).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.SetLimits(-0.5, k - 0.5, k - 0.5, -0.5);
        plot.Axes.Bottom.Label.Text = "predicted class";
        plot.Axes.Left.Label.Text = "true class";
        plot.Title(title);
        return plot;
    }

    /// <summary>
    /// Draws images (each [3, H, W] bytes, planes R, G, B) in a row-wrapped grid, scaled up, each with its caption
    /// below, as figures/NAME.png (the tutorial's imshow of a batch).
    /// </summary>
    public static Figure ImageGrid(
        IReadOnlyList<(byte[] Chw, string Caption)> images,
        int height,
        int width,
        string name,
        string caption,
        int columns = 8,
        int scale = 4
    ) => new(Figures.RelativePath(name), caption) { Render = () => DrawGrid(images, height, width, columns, scale) };

    static byte[] DrawGrid(
        IReadOnlyList<(byte[] Chw, string Caption)> images,
        int height,
        int width,
        int columns,
        int scale
    )
    {
        int cellW = width * scale + 12,
            cellH = height * scale + 30;
        int rows = (images.Count + columns - 1) / columns;
        using var bmp = new SKBitmap(cellW * Math.Min(columns, images.Count), cellH * rows);
        using (var canvas = new SKCanvas(bmp))
        {
            canvas.Clear(SKColors.White);
            using var font = new SKFont(SKTypeface.Default, 15);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (int n = 0; n < images.Count; n++)
            {
                var (chw, text) = images[n];
                int ox = (n % columns) * cellW + 6,
                    oy = (n / columns) * cellH + 4;
                using var img = new SKBitmap(width, height);
                for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int p = y * width + x;
                    img.SetPixel(x, y, new SKColor(chw[p], chw[height * width + p], chw[2 * height * width + p]));
                }
                canvas.DrawBitmap(img, new SKRect(ox, oy, ox + width * scale, oy + height * scale));
                canvas.DrawText(
                    text,
                    ox + width * scale / 2f,
                    oy + height * scale + 20,
                    SKTextAlign.Center,
                    font,
                    paint
                );
            }
        }
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
