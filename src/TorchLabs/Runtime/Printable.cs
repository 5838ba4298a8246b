using System.Globalization;
using System.Text;

namespace TorchLabs.Runtime;

/// <summary>
/// Text from files (tensor names, library messages, setting values) made safe for a terminal: every control character
/// (C0, DEL, C1) and every Unicode format character (bidirectional overrides, zero-width joiners) is written as an
/// escape (<c>\x1B</c>, <c>\u202E</c>), so no byte from a file can retitle a window, clear the screen or fake a line;
/// and the text is cut to a length with a note of how much was left out.
/// </summary>
public static class Printable
{
    /// <summary><paramref name="text"/> with its non-printing characters escaped, cut after <paramref name="max"/>
    /// characters.</summary>
    public static string Escape(string? text, int max = 160)
    {
        if (text is null)
            return "";
        var sb = new StringBuilder();
        int shown = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (shown >= max)
            {
                sb.Append($"… ({text.Length - shown} more characters)");
                break;
            }
            var category = Rune.GetUnicodeCategory(rune);
            if (
                category
                is UnicodeCategory.Control
                    or UnicodeCategory.Format
                    or UnicodeCategory.LineSeparator
                    or UnicodeCategory.ParagraphSeparator
                    or UnicodeCategory.Surrogate
                    or UnicodeCategory.PrivateUse
            )
                sb.Append(rune.Value <= 0xFF ? $"\\x{rune.Value:X2}" : $"\\u{rune.Value:X4}");
            else
                sb.Append(rune.ToString());
            shown += rune.Utf16SequenceLength;
        }
        return sb.ToString();
    }

    /// <summary>A path or a file name (from the user, a file or a folder listing) as every line shows it: <see
    /// cref="Escape"/>d, cut only past 4,096 characters (PATH_MAX).</summary>
    public static string Path(string? path) => Escape(path, 4096);

    /// <summary><see cref="Escape"/> in double quotes: a name from a file, as messages show it.</summary>
    public static string Quote(string? text, int max = 80) => "\"" + Escape(text, max) + "\"";
}
