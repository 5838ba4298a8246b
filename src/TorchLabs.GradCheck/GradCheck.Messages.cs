using System.Globalization;
using System.Text;

namespace TorchLabs.Gradients;

public static partial class GradCheck
{
    /// <summary>
    /// PyTorch's wording, "Jacobian mismatch for output i with respect to input j," then the numerical and analytical
    /// Jacobians in PyTorch's orientation (a row per input element, a column per output element), then which entries
    /// are points where the function is not differentiable and which are backward errors.
    /// </summary>
    public static string MismatchMessage(JacobianBlock b, int maxPrinted = 16) =>
        MismatchMessage(b, $"input {b.Input}", maxPrinted);

    internal static string MismatchMessage(JacobianBlock b, string inputLabel, int maxPrinted)
    {
        var nl = Environment.NewLine;
        var sb = new StringBuilder();
        sb.Append($"Jacobian mismatch for output {b.Output} with respect to input {b.Input},").Append(nl);
        sb.Append("numerical:").Append(nl).Append(Format(b.Numerical, b.NumericalImaginary, maxPrinted)).Append(nl);
        sb.Append("analytical:").Append(nl).Append(Format(b.Analytical, b.AnalyticalImaginary, maxPrinted)).Append(nl);
        sb.Append(
                $"(rows: the {b.Numerical.GetLength(0)} elements of {inputLabel}, columns: the {b.Numerical.GetLength(1)} elements of "
            )
            .Append($"output {b.Output}; max |analytical − numerical| = {G(b.MaxAbsError)})");
        if (b.Kinks.Count > 0)
        {
            sb.Append(nl)
                .Append(
                    b.OnlyKinks
                        ? "Every mismatch is at a point where the function is not differentiable, not a backward error:"
                        : $"{b.Kinks.Count} mismatches are at points where the function is not differentiable, and {b.SmoothMismatches} are backward errors:"
                );
            foreach (var k in b.Kinks.Take(8))
                sb.Append(nl)
                    .Append(
                        $"  input element {k.InputElement} → output element {k.OutputElement}: not differentiable at this point "
                    )
                    .Append($"(left {G(k.Left)}, right {G(k.Right)}; backward gives {G(k.Analytical)})");
            if (b.Kinks.Count > 8)
                sb.Append(nl).Append($"  … and {b.Kinks.Count - 8} more");
            sb.Append(nl)
                .Append(
                    "Move the input away from the kink (for example, no exact zeros into relu or abs, no ties into max) and check again."
                );
        }
        foreach (string note in b.Notes.Take(8))
            sb.Append(nl).Append("  ").Append(note);
        if (b.Notes.Count > 8)
            sb.Append(nl).Append($"  … and {b.Notes.Count - 8} more");
        return sb.ToString();
    }

    /// <summary>
    /// A matrix as rows of numbers, whole up to <paramref name="max"/> rows and columns; beyond that the first
    /// <paramref name="max"/> are shown and a last line says how much was left out.
    /// </summary>
    public static string Format(double[,] m, int max = 16) => Format(m, null, max);

    /// <summary><see cref="Format(double[,], int)"/> of a complex matrix: real parts <paramref name="m"/>, imaginary
    /// parts <paramref name="imaginary"/> (none: a real matrix); entries as a+bj, the way PyTorch prints complex
    /// numbers.</summary>
    public static string Format(double[,] m, double[,]? imaginary, int max = 16)
    {
        int rows = m.GetLength(0),
            cols = m.GetLength(1);
        if (rows == 0 || cols == 0)
            return $"[] ({rows} × {cols})";
        int shownRows = Math.Min(rows, max),
            shownCols = Math.Min(cols, max);
        var values = m.Cast<double>()
            .Concat(imaginary?.Cast<double>() ?? [])
            .Where(double.IsFinite)
            .Select(Math.Abs)
            .Where(v => v > 0)
            .ToArray();
        bool scientific = values.Length > 0 && (values.Max() >= 1e4 || values.Min() < 1e-4);
        string Real(double v) =>
            scientific
                ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture)
                : v.ToString("0.0000", CultureInfo.InvariantCulture);
        string Cell(int r, int c) =>
            imaginary is null
                ? Real(m[r, c])
                : Real(m[r, c])
                    + (imaginary[r, c] < 0 || double.IsNegative(imaginary[r, c]) ? "-" : "+")
                    + Real(Math.Abs(imaginary[r, c]))
                    + "j";
        int width = Enumerable
            .Range(0, shownRows)
            .SelectMany(r => Enumerable.Range(0, shownCols).Select(c => Cell(r, c).Length))
            .Max();
        var sb = new StringBuilder();
        for (int r = 0; r < shownRows; r++)
        {
            sb.Append(r == 0 ? "[[" : " [");
            for (int c = 0; c < shownCols; c++)
                sb.Append(c == 0 ? "" : ", ").Append(Cell(r, c).PadLeft(width));
            if (cols > shownCols)
                sb.Append(", …");
            sb.Append(']')
                .Append(
                    r == shownRows - 1
                        ? (rows > shownRows ? "," + Environment.NewLine + " …]" : "]")
                        : "," + Environment.NewLine
                );
        }
        if (rows > shownRows || cols > shownCols)
            sb.Append(Environment.NewLine)
                .Append($"(cut: {shownRows} of {rows} rows and {shownCols} of {cols} columns shown; ")
                .Append("the whole matrices are in GradCheckResult.Blocks, or raise GradCheckOptions.MaxPrinted)");
        return sb.ToString();
    }

    /// <summary>A number for a message; with an imaginary part, as Python prints a complex number: (a+bj).</summary>
    internal static string Number(double re, double? im) =>
        im is not double b ? G(re) : $"({G(re)}{(b < 0 || double.IsNegative(b) ? "-" : "+")}{G(Math.Abs(b))}j)";
}
