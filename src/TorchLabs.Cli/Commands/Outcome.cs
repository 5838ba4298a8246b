namespace TorchLabs.Cli.Commands;

/// <summary>The exit codes of every command, and the guard that turns a command's exceptions into one line and a
/// code.</summary>
public static class Outcome
{
    /// <summary>0 success, 1 a failure of the lab or the program, 2 bad input.</summary>
    public const int Ok = 0,
        Failed = 1,
        BadInput = 2;

    /// <summary>The one mapping of the library's settings to this program's flags: a setting ‹name› (<see
    /// cref="Setting"/>) is the option --name.</summary>
    public static string Flags(string text) => Setting.Render(text, name => "--" + name);

    /// <summary>Runs a command body, turning exceptions into one-line messages and exit codes.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"torchlabs: {Printable.Escape(Flags(e.Template), 600)}");
            return BadInput;
        }
        catch (DiskFullException e)
        {
            Console.Error.WriteLine($"torchlabs: {Printable.Escape(e.Message, 600)}");
            return Failed;
        }
        catch (LabFailedException e)
        {
            Console.Error.WriteLine($"torchlabs: {Printable.Escape(Flags(e.Template), 600)}");
            return Failed;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("TORCHLABS_DEBUG") != "1")
        {
            // libtorch's messages carry native stack frames after the first line: only the first line is shown.
            string first = Printable.Escape(e.Message.Split('\n', 2)[0].Trim(), 300);
            Console.Error.WriteLine(
                $"torchlabs: internal error: {e.GetType().Name}: {first} (set TORCHLABS_DEBUG=1 for the stack trace)"
            );
            return Failed;
        }
    }
}
