using TorchLabs.Runtime;

namespace TorchLabs.Tests.Runtime;

/// <summary>--out is checked before any work: each bad kind of path gives one line naming it.</summary>
public class OutputFolderTests
{
    /// <summary>The problem as the command line shows it (settings as flags).</summary>
    static string? Problem(string path) =>
        OutputFolder.Problem(path) is string s ? TorchLabs.Cli.Commands.Outcome.Flags(s) : null;

    [Fact]
    public void Problem_NewFolderBelowAWritableOne_IsNone_AndPrepareCreatesIt()
    {
        string dir = Path.Combine(TestEnvironment.NewTempDir(), "a", "b");
        Assert.Null(Problem(dir));
        Assert.False(Directory.Exists(dir)); // the check creates nothing
        Assert.Equal(dir, OutputFolder.Prepare(dir));
        Assert.True(Directory.Exists(dir));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.GetDirectoryName(Path.GetDirectoryName(dir))!), f =>
            f.Contains(".torchlabs-write-test")
        );
    }

    [Fact]
    public void Problem_ExistingFileOrFileAsParent_IsBadInput()
    {
        string file = Path.Combine(TestEnvironment.NewTempDir(), "f");
        File.WriteAllText(file, "x");
        Assert.Equal($"--out {file}: is a file; expected a folder (created when missing)", Problem(file));
        Assert.Equal($"--out {file}/sub: {file} is a file, so no folder can be made below it", Problem(file + "/sub"));
    }

    [Fact]
    public void Problem_NameLongerThanTheFileSystemAllows_IsBadInput() =>
        Assert.Equal(
            "--out: a name in the path is 300 bytes long; the file system allows 255",
            Problem(Path.Combine(TestEnvironment.NewTempDir(), new string('a', 300)))
        );

    [Fact]
    public void Problem_ByteThatWasNotUtf8_IsBadInput() => Assert.Contains("not UTF-8", Problem("out\uFFFDdir"));

    [Fact]
    public void Problem_PlaceThatCannotBeWritten_IsBadInput() =>
        Assert.StartsWith("--out /proc/torchlabs: cannot write in /proc", Problem("/proc/torchlabs"));

    [Fact]
    public void Prepare_BadPath_ThrowsUsageException() =>
        Assert.Throws<UsageException>(() => OutputFolder.Prepare("/proc/torchlabs"));
}
