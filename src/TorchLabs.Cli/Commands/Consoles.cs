using Spectre.Console;

namespace TorchLabs.Cli.Commands;

/// <summary>Spectre.Console consoles: tables on stdout, progress and logs on stderr.</summary>
public static class Consoles
{
    public static IAnsiConsole Out { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
    public static IAnsiConsole Err { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}

/// <summary>An <see cref="IProgress{T}"/> that calls back synchronously, on the reporting thread.</summary>
public sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
