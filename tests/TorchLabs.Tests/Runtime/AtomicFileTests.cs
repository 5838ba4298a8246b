using TorchLabs.Runtime;

namespace TorchLabs.Tests.Runtime;

public class AtomicFileTests
{
    [Fact]
    public void Write_FailingWriter_LeavesNeitherFileNorTemporary()
    {
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "out.txt");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, tmp =>
            {
                File.WriteAllText(tmp, "half");
                throw new InvalidOperationException("interrupted");
            }));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void WriteAllText_ReplacesExistingFile()
    {
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "sub", "out.txt");
        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFileSystemEntries(Path.Combine(dir, "sub")));
    }
}
