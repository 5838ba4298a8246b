using Spectre.Console;

namespace TorchLabs.Cli.Commands;

/// <summary>Spectre.Console consoles: tables on stdout, progress and logs on stderr.</summary>
public static class Consoles
{
    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);
    public static IAnsiConsole Err { get; } = Create(Console.Error, Console.IsErrorRedirected);

    /// <summary>A console on <paramref name="writer"/>; piped into a file or another program, tables get 160 columns instead of 80.</summary>
    static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (redirected) console.Profile.Width = 160;
        return console;
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back synchronously, on the reporting thread.</summary>
public sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
