using System.Diagnostics;
using System.Runtime.CompilerServices;
using TorchLabs.Runtime;

namespace TorchLabs.Tests;

/// <summary>Shared test set-up: explicit libtorch threads, paths of the repository and the built CLI.</summary>
public static class TestEnvironment
{
    /// <summary>Tests run libtorch on one thread: reproducible sums, and no fight with the test runner for
    /// cores.</summary>
    public const int Threads = 1;

    [ModuleInitializer]
    internal static void Init()
    {
        TorchLabs.Runtime.TorchRuntime.Initialize();
        TorchSharp.torch.set_num_threads(Threads);
        // Console output goes through writers that an in-process run of the CLI can take over for its own flow of
        // execution.
        Console.SetOut(new RoutedWriter(Console.Out, () => Captured.Value?.Out));
        Console.SetError(new RoutedWriter(Console.Error, () => Captured.Value?.Err));
    }

    /// <summary>The repository root (the folder holding TorchLabs.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TorchLabs.sln")))
                dir = dir.Parent;
            return dir?.FullName
                ?? throw new InvalidOperationException("TorchLabs.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A library error as the command line shows it: its settings (‹name›) as the program's flags
    /// (--name).</summary>
    public static string AsShown(Exception e) =>
        e switch
        {
            UsageException u => TorchLabs.Cli.Commands.Outcome.Flags(u.Template),
            LabFailedException l => TorchLabs.Cli.Commands.Outcome.Flags(l.Template),
            _ => e.Message,
        };

    /// <summary>The folders <see cref="NewTempDir"/> made, removed when the test process exits (a sweep's trials of
    /// 500,000 steps alone write about 100 MB; runs of the suite would otherwise fill the temp folder). The test host
    /// may be ended before it has removed them all, so such folders of earlier runs untouched for a day are removed at
    /// start too.</summary>
    static readonly System.Collections.Concurrent.ConcurrentBag<string> TempDirs = CleanedAtExit();

    static System.Collections.Concurrent.ConcurrentBag<string> CleanedAtExit()
    {
        static void Remove(string dir)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        foreach (string old in Directory.EnumerateDirectories(Path.GetTempPath(), "torchlabs-test-*"))
            if (Directory.GetLastWriteTimeUtc(old) < DateTime.UtcNow.AddDays(-1))
                Remove(old);
        var dirs = new System.Collections.Concurrent.ConcurrentBag<string>();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (string d in dirs)
                Remove(d);
        };
        return dirs;
    }

    /// <summary>A fresh empty folder under the system temp folder, removed when the test process exits.</summary>
    public static string NewTempDir(string prefix = "torchlabs-test")
    {
        string d = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        TempDirs.Add(d);
        return d;
    }

    public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr);

    /// <summary>Bad input as the CLI must report it: exit <paramref name="exitCode"/>, one line on stderr holding
    /// <paramref name="contains"/>, no stack trace (managed or native).</summary>
    public static void OneLine(ProcessResult r, int exitCode, string contains)
    {
        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}: {r.StdErr}");
        string line = Assert.Single(r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(contains, line);
        Assert.DoesNotContain("   at ", r.StdErr);
        Assert.DoesNotContain("frame #", r.StdErr);
    }

    /// <summary>The streams of the in-process run on this flow of execution, if any.</summary>
    static readonly AsyncLocal<(StringWriter Out, StringWriter Err)?> Captured = new();
    static readonly Lock InProcess = new();

    /// <summary>
    /// Runs `torchlabs ARGS` inside this process (<see cref="TorchLabs.Cli.Cli.Run"/>, what the program's Main runs
    /// once its allocator is chosen), its stdout and stderr captured: for commands whose behaviour needs no process of
    /// its own (parsing, bad input, JSON, the labs at the tests' thread count), a process start and libtorch's load
    /// saved each time. One at a time. What needs a process stays with <see cref="RunCli"/>: the allocator, signals,
    /// the default thread rule, sweeps (their trials run this program), native crashes. A command that leaves libtorch
    /// on another thread count than the tests' fails the test (the count is process-wide: other tests' sums would
    /// change).
    /// </summary>
    public static ProcessResult RunInProcess(params string[] args)
    {
        lock (InProcess)
        {
            var streams = (Out: new StringWriter(), Err: new StringWriter());
            int exit;
            Captured.Value = streams;
            try
            {
                exit = TorchLabs.Cli.Cli.Run(args);
            }
            finally
            {
                Captured.Value = null;
            }
            int threads = TorchSharp.torch.get_num_threads();
            if (threads != Threads)
            {
                TorchSharp.torch.set_num_threads(Threads);
                Assert.Fail(
                    $"torchlabs {string.Join(' ', args)} left libtorch on {threads} threads: run it with RunCli"
                );
            }
            return new ProcessResult(exit, streams.Out.ToString(), streams.Err.ToString());
        }
    }

    /// <summary><see cref="RunInProcess"/>'s JSON (<see cref="Json"/>).</summary>
    public static System.Text.Json.JsonDocument InProcessJson(params string[] args) => Json(RunInProcess(args));

    /// <summary>A writer that writes to the in-process run's capture when the current flow has one, else to the
    /// console.</summary>
    sealed class RoutedWriter(TextWriter console, Func<TextWriter?> capture) : TextWriter
    {
        TextWriter Target => capture() ?? console;
        public override System.Text.Encoding Encoding => console.Encoding;

        public override void Write(char value) => Target.Write(value);

        public override void Write(string? value) => Target.Write(value);

        public override void Write(char[] buffer, int index, int count) => Target.Write(buffer, index, count);

        public override void WriteLine(string? value) => Target.WriteLine(value);

        public override void Flush() => Target.Flush();
    }

    /// <summary>The built `torchlabs` (torchlabs.dll beside the tests), run by `dotnet`.</summary>
    public static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "torchlabs.dll");

    /// <summary>Runs the built `torchlabs` as a separate process.</summary>
    public static ProcessResult RunCli(params string[] args) => Run("dotnet", [CliDll, .. args]);

    /// <summary>The same, with extra environment variables.</summary>
    public static ProcessResult RunCliWith(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Run("dotnet", [CliDll, .. args], environment: environment);

    /// <summary>Starts the built `torchlabs` and returns at once, its stdout and stderr redirected, for tests that act
    /// on it while it runs (signals, scancel).</summary>
    public static Process StartCli(params string[] args) => Start("dotnet", [CliDll, .. args]);

    /// <summary>
    /// The one JSON object a command printed on stdout; fails the test, with the command's stderr, when it did not exit
    /// 0. The one way the tests read a command's JSON.
    /// </summary>
    public static System.Text.Json.JsonDocument Json(ProcessResult r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StdErr}");
        return System.Text.Json.JsonDocument.Parse(r.StdOut);
    }

    /// <summary>Runs `torchlabs ARGS` and returns its JSON (<see cref="Json"/>).</summary>
    public static System.Text.Json.JsonDocument CliJson(params string[] args) => Json(RunCli(args));

    public static ProcessResult Run(
        string file,
        string[] args,
        string? workingDirectory = null,
        int timeoutMs = 300_000,
        IReadOnlyDictionary<string, string>? environment = null
    )
    {
        using var p = Start(file, args, workingDirectory, environment);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    static Process Start(
        string file,
        string[] args,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null
    )
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["TORCHLABS_DEBUG"] = "0";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return Process.Start(psi)!;
    }
}
