using System.Text.RegularExpressions;

namespace TorchLabs.Runtime;

/// <summary>
/// Bad input from the user: a value, path or name that is not what a command expects.
/// The command line prints its message as one line and exits with code 2.
/// </summary>
/// <remarks>The message names settings as <see cref="Setting.Of"/> writes them; <see cref="Exception.Message"/> shows
/// their plain names, and the command line shows its own flags (<see cref="Setting.Render"/>).</remarks>
public sealed class UsageException(string message) : Exception(Setting.Plain(message))
{
    /// <summary>The message with its settings marked, for a front end to show them its way.</summary>
    public string Template { get; } = message;
}

/// <summary>
/// A run that could not complete for a reason outside the input's form (a download that failed,
/// a diverging training run). The command line prints its message as one line and exits with code 1.
/// </summary>
public sealed class LabFailedException(string message, Exception? inner = null)
    : Exception(Setting.Plain(message), inner)
{
    /// <summary>The message with its settings marked (see <see cref="UsageException.Template"/>).</summary>
    public string Template { get; } = message;
}

/// <summary>
/// A setting named in a message: the library writes ‹name› (the setting's name, as the command line's flag without its
/// dashes), and each front end shows it its own way, the command line as its flag (--name), a library user by the plain
/// name. So the library holds no command-line flags and the command line maps settings to flags in one place.
/// </summary>
public static partial class Setting
{
    /// <summary>‹name›: a setting in a message.</summary>
    public static string Of(string name) => $"‹{name}›";

    /// <summary>The text with every ‹name› shown by <paramref name="show"/>.</summary>
    public static string Render(string text, Func<string, string> show) =>
        Marked().Replace(text, m => show(m.Groups[1].Value));

    /// <summary>The text with every ‹name› as the plain name.</summary>
    public static string Plain(string text) => Render(text, name => name);

    /// <summary>The text with every command-line flag (--name) as ‹name›: how text written before settings were marked
    /// (the settings stored in older checkpoints) is read.</summary>
    public static string FromFlags(string text) => Flagged().Replace(text, m => Of(m.Groups[1].Value));

    [GeneratedRegex("‹([a-z][a-z0-9_-]*)›")]
    private static partial Regex Marked();

    [GeneratedRegex(@"(?<![\w-])--([a-z][a-z0-9-]*)")]
    private static partial Regex Flagged();
}
