namespace TorchLabs.Runtime;

/// <summary>A file the user named (a model, an image), opened for reading or refused in one line as bad
/// input.</summary>
public static class InputFile
{
    /// <summary>
    /// Opens <paramref name="path"/>, or throws <see cref="UsageException"/> starting with <paramref name="label"/>: a
    /// directory, no such file, not a regular file (a FIFO would block the open forever, a device would be read without
    /// end), or a file that cannot be read (with the reason).
    /// </summary>
    /// <param name="expected">What the file should be, for the messages ("a model file").</param>
    /// <param name="expectedIfMissing">What to say when there is no such file, if that is said otherwise.</param>
    public static FileStream OpenRead(string path, string label, string expected, string? expectedIfMissing = null)
    {
        if (LoopingLink(path))
            throw new UsageException(
                $"{label}: a symbolic link that loops (or a chain too long to follow); expected " + expected
            );
        if (Directory.Exists(path))
            throw new UsageException($"{label}: a directory; expected {expected}");
        if (!File.Exists(path))
            throw new UsageException($"{label}: no such file; expected {expectedIfMissing ?? expected}");
        if (!FileKind.IsRegularFile(path))
            throw new UsageException($"{label}: not a regular file (a FIFO, device or socket); expected {expected}");
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UsageException($"{label}: cannot read it ({Printable.Escape(e.Message)})");
        }
    }

    /// <summary>
    /// The text of <paramref name="path"/> (UTF-8), opened as <see cref="OpenRead"/> opens it, or <see
    /// cref="UsageException"/> when it is longer than <paramref name="maxBytes"/> (checked before anything is read).
    /// </summary>
    public static string ReadAllText(string path, string label, string expected, long maxBytes)
    {
        using var f = OpenRead(path, label, expected);
        if (f.Length > maxBytes)
            throw new UsageException($"{label}: {f.Length:N0} bytes, more than the {maxBytes:N0} {expected} may have");
        using var reader = new StreamReader(f);
        return reader.ReadToEnd();
    }

    /// <summary>Whether <paramref name="path"/> is a symbolic link whose chain cannot be followed to its end
    /// (ELOOP).</summary>
    static bool LoopingLink(string path)
    {
        try
        {
            if (new FileInfo(path).LinkTarget is null)
                return false;
            File.ResolveLinkTarget(path, returnFinalTarget: true);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
