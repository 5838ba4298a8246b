namespace TorchLabs.Cli.Commands;

/// <summary>
/// A one-line progress display on stderr for long runs that also print log lines: on a terminal the status line is
/// redrawn in place and cleared before each log line; when stderr is redirected, status lines are dropped (only the
/// log lines, the results, are written).
/// </summary>
public sealed class StatusLine : IProgress<string>
{
    readonly bool live = !Console.IsErrorRedirected;
    readonly TextWriter logOut;
    bool shown;

    /// <param name="logOut">Where log lines go: stdout for text output, stderr when stdout carries JSON.</param>
    public StatusLine(TextWriter logOut) => this.logOut = logOut;

    public void Report(string value)
    {
        if (!live)
            return;
        Console.Error.Write("\r\u001b[K" + value);
        shown = true;
    }

    public void Log(string line)
    {
        Clear();
        logOut.WriteLine(line);
    }

    /// <summary>Runs <paramref name="work"/> with a status line on stderr, cleared when it is done.</summary>
    public static T Around<T>(Func<StatusLine, T> work)
    {
        var status = new StatusLine(Console.Error);
        try
        {
            return work(status);
        }
        finally
        {
            status.Clear();
        }
    }

    public void Clear()
    {
        if (!shown)
            return;
        Console.Error.Write("\r\u001b[K");
        shown = false;
    }
}
