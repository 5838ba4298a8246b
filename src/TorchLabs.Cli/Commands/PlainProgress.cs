using System.Diagnostics;

namespace TorchLabs.Cli.Commands;

/// <summary>
/// Progress for a log rather than a terminal (stderr redirected: CI, <c>| tee</c>, a file): one plain line per stage
/// and at most one per <see cref="Interval"/> for the messages in between, each with the time since the start, never a
/// line that repeats the one before it, and no control characters (nothing that only makes sense as a redraw).
/// </summary>
public sealed class PlainProgress(TextWriter writer) : IProgress<string>
{
    /// <summary>The least time between two progress lines of the same stage.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly object gate = new();
    string stage = "";
    string? last;
    TimeSpan lastAt = TimeSpan.MinValue;

    /// <summary>A stage starts or ends (a lab): always written.</summary>
    public void Stage(string name, string what)
    {
        lock (gate)
        {
            stage = name;
            Write($"{name}: {what}");
        }
    }

    /// <summary>A progress message of the current stage: written when it says something new and the interval has
    /// passed.</summary>
    public void Report(string value)
    {
        lock (gate)
        {
            if (clock.Elapsed - lastAt < Interval)
                return;
            Write($"{stage}: {value}");
        }
    }

    void Write(string line)
    {
        line = Runtime.Printable.Escape(line);
        if (line == last)
            return;
        last = line;
        lastAt = clock.Elapsed;
        writer.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {line}");
    }
}
