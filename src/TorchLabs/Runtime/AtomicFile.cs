namespace TorchLabs.Runtime;

/// <summary>
/// Writes files so that a reader never sees half of one: the bytes go to a temporary name in the same
/// folder, and a rename puts them in place. An interrupted run leaves at most a ".tmp-*" file behind.
/// </summary>
public static class AtomicFile
{
    /// <summary>The temporary name used while <paramref name="path"/> is being written.</summary>
    public static string TemporaryNameFor(string path) =>
        Path.Combine(
            Path.GetDirectoryName(Path.GetFullPath(path))!,
            "." + Path.GetFileName(path) + ".tmp-" + Environment.ProcessId
        );

    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, tmp => File.WriteAllBytes(tmp, bytes));

    /// <summary>Runs <paramref name="write"/> on a temporary path, then renames it to <paramref
    /// name="path"/>.</summary>
    public static void Write(string path, Action<string> write) => WriteAll([(path, write)], Path.GetFullPath(path));

    /// <summary>
    /// Writes several files as one change: each to its temporary name (by its <c>Write</c>), then, once all are
    /// written, each renamed into place. If writing any of them fails, every temporary is removed and no file is
    /// replaced; a full disk becomes <see cref="DiskFullException"/> naming <paramref name="what"/>.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, Action<string> Write)> files, string what)
    {
        var staged = new List<(string Tmp, string Full)>();
        try
        {
            foreach (var (path, write) in files)
            {
                string full = Path.GetFullPath(path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                string tmp = TemporaryNameFor(full);
                staged.Add((tmp, full));
                write(tmp);
            }
            foreach (var (tmp, full) in staged)
                File.Move(tmp, full, overwrite: true);
        }
        catch (IOException e) when (DiskFullException.IsDiskFull(e))
        {
            throw new DiskFullException(what, e);
        }
        finally
        {
            foreach (var (tmp, _) in staged)
                if (File.Exists(tmp))
                    File.Delete(tmp);
        }
    }

    /// <summary>
    /// Deletes the ".NAME.tmp-PID" files in <paramref name="folder"/> left by processes that no longer run (a run
    /// killed while writing); a live process's temporaries are left alone. Returns how many were removed.
    /// </summary>
    public static int RemoveStaleTemporaries(string folder)
    {
        if (!Directory.Exists(folder))
            return 0;
        int removed = 0;
        foreach (string f in Directory.EnumerateFiles(folder, ".*.tmp-*"))
        {
            string tail = f[(f.LastIndexOf(".tmp-", StringComparison.Ordinal) + 5)..];
            if (!int.TryParse(tail, out int pid) || pid == Environment.ProcessId || Alive(pid))
                continue;
            try
            {
                File.Delete(f);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    static bool Alive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>A write failed because the disk (or the user's quota) is full: one line, "cannot write PATH: no space left
/// on device", exit 1. What was half written has been removed.</summary>
public sealed class DiskFullException(string path, Exception inner)
    : IOException($"cannot write {Printable.Escape(path)}: no space left on device", inner)
{
    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux, as .NET reports them in the exception's HResult or
    /// message.</summary>
    public static bool IsDiskFull(IOException e) =>
        e is not DiskFullException
        && (
            (e.HResult & 0xFFFF) is 28 or 122
            || e.HResult == unchecked((int)0x80070070)
            || e.Message.Contains("No space left on device", StringComparison.Ordinal)
            || e.Message.Contains("Disk quota exceeded", StringComparison.Ordinal)
        );
}
