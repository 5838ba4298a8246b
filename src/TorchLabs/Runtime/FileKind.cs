using System.Runtime.InteropServices;

namespace TorchLabs.Runtime;

/// <summary>
/// What kind of file a path names, from stat(2): a FIFO given as a model or image would block the program forever on
/// open, a device would be read without end. .NET reports them all as "Normal" files, so the type comes from st_mode.
/// </summary>
public static class FileKind
{
    const uint TypeMask = 0xF000,
        Regular = 0x8000;

    /// <summary>True for a regular file (after following links); also true where stat cannot be asked (not Linux
    /// x64/arm64).</summary>
    public static bool IsRegularFile(string path)
    {
        int modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24, // struct stat: st_dev, st_ino, st_nlink (8 bytes each), then st_mode
            Architecture.Arm64 => 16, // st_dev, st_ino, then st_mode
            _ => -1,
        };
        if (!OperatingSystem.IsLinux() || modeOffset < 0)
            return true;
        var buffer = new byte[256];
        try
        {
            if (stat(path, buffer) != 0)
                return true; // let the open that follows report the error
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return true;
        }
        return (BitConverter.ToUInt32(buffer, modeOffset) & TypeMask) == Regular;
    }

    [DllImport("libc", SetLastError = true)]
    static extern int stat(string path, byte[] buffer);
}
