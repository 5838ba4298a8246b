using System.Text;

namespace TorchLabs.Runtime;

/// <summary>
/// The check every --out gets before any work is done: the path must be a folder that exists or can be made, and
/// writable. A file at the path (or at a parent), a name longer than the file system allows, a byte that was not UTF-8
/// (the runtime decodes it as U+FFFD, which would silently write into another folder) and a read-only place are all bad
/// input.
/// </summary>
public static class OutputFolder
{
    /// <summary>The longest name of one path component, in bytes (ext4 and most Linux file systems).</summary>
    public const int MaxNameBytes = 255;

    /// <summary>What is wrong with <paramref name="path"/> as an output folder, as one line starting with the option;
    /// null when it will do.</summary>
    public static string? Problem(string path, string option = "‹out›")
    {
        string shown = $"{option} {path}";
        if (path.Length == 0)
            return $"{option}: expected a folder, got an empty path";
        if (path.Contains('\uFFFD'))
            return $"{option}: the path contains a byte that is not UTF-8; give the folder's name in UTF-8";
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"{shown}: not a valid path ({FirstLine(e.Message)})";
        }
        foreach (string part in full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
            if (Encoding.UTF8.GetByteCount(part) > MaxNameBytes)
                return $"{option}: a name in the path is {Encoding.UTF8.GetByteCount(part)} bytes long; the file system allows {MaxNameBytes}";
        // The folder itself or the nearest part of it that exists.
        string? existing = full;
        while (existing is not null && !Directory.Exists(existing))
        {
            if (File.Exists(existing))
                return existing == full
                    ? $"{shown}: is a file; expected a folder (created when missing)"
                    : $"{shown}: {existing} is a file, so no folder can be made below it";
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null)
            return $"{shown}: no part of the path exists";
        try
        {
            string probe = Path.Combine(existing, $".torchlabs-write-test-{Environment.ProcessId}");
            using (
                new FileStream(
                    probe,
                    FileMode.CreateNew,
                    FileAccess.Write,
                    FileShare.None,
                    1,
                    FileOptions.DeleteOnClose
                )
            ) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{shown}: cannot write in {existing} ({FirstLine(e.Message)})";
        }
        return null;
    }

    /// <summary>Throws <see cref="UsageException"/> with <see cref="Problem"/>'s line; otherwise creates the folder and
    /// returns its full path.</summary>
    public static string Prepare(string path, string option = "‹out›")
    {
        if (Problem(path, option) is string problem)
            throw new UsageException(problem);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(full);
        return full;
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>The lock file of an output folder, and beside it the process id of the run that holds it.</summary>
    public const string LockName = ".torchlabs.lock";

    /// <summary>
    /// Takes the output folder for this run: an exclusive lock on <c>DIR/.torchlabs.lock</c> (flock, released when the
    /// process ends, however it ends), so that two runs never write the same files. A folder another run holds is bad
    /// input naming that run's process id. Dispose to release it. Also removes temporaries that dead runs left.
    /// </summary>
    public static IDisposable Lock(string folder, string option = "‹out›")
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, LockName),
            pidPath = path + ".pid";
        FileStream held;
        try
        {
            held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string holder = File.Exists(pidPath) ? File.ReadAllText(pidPath).Trim() : "unknown";
            throw new UsageException(
                $"{option} {Printable.Escape(folder)}: another torchlabs run (process {Printable.Escape(holder, 20)}) is writing to this folder; wait for it, or give another ‹out›"
            );
        }
        File.WriteAllText(pidPath, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AtomicFile.RemoveStaleTemporaries(folder);
        return new FolderLock(held, path, pidPath);
    }

    /// <summary>The held lock; disposing removes the two files and releases it.</summary>
    sealed class FolderLock(FileStream held, string path, string pidPath) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                File.Delete(pidPath);
                File.Delete(path);
            }
            catch (IOException) { }
            held.Dispose();
        }
    }
}
