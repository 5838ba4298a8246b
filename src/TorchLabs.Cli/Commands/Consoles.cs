using Spectre.Console;

namespace TorchLabs.Cli.Commands;

/// <summary>Spectre.Console consoles: tables on stdout, progress and logs on stderr.</summary>
public static class Consoles
{
    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);
    public static IAnsiConsole Err { get; } = Create(Console.Error, Console.IsErrorRedirected);

    /// <summary>A console on <paramref name="writer"/>; piped into a file or another program, tables get 160 columns
    /// instead of 80.</summary>
    static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (redirected)
            console.Profile.Width = 160;
        return console;
    }
}

/// <summary>The console renderer of a report <see cref="Reporting.Table"/>: the same table the report shows, drawn by
/// Spectre.Console.</summary>
public static class ConsoleTables
{
    public static void Write(Reporting.Table t, IAnsiConsole? console = null)
    {
        var table = new Spectre.Console.Table();
        if (t.Caption is not null)
            table.Title(Markup.Escape(Plain(t.Caption)));
        foreach (string h in t.Header)
            table.AddColumn(Markup.Escape(Plain(h)));
        foreach (var row in t.Rows)
            table.AddRow(
                row.Select(c =>
                        c == "pass" ? "[green]pass[/]"
                        : c.StartsWith("**FAIL**", StringComparison.Ordinal)
                            ? "[red]FAIL[/]" + Markup.Escape(Plain(c[8..]))
                        : Markup.Escape(Plain(c))
                    )
                    .ToArray()
            );
        (console ?? Consoles.Out).Write(table);
    }

    /// <summary>Markdown's `code` and **bold** marks dropped for the console.</summary>
    static string Plain(string s) => s.Replace("`", "").Replace("**", "");
}

/// <summary>An <see cref="IProgress{T}"/> that calls back synchronously, on the reporting thread.</summary>
public sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
