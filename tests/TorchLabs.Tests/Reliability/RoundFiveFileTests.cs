using System.Diagnostics;
using TorchLabs.Data;
using TorchLabs.Labs;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Reliability;

/// <summary>
/// docs/reliability.md, round five: every file a user or a folder hands the program is opened through one helper
/// (Runtime/InputFile): a regular file, its size that of what a link points to, a FIFO or device refused in one line.
/// </summary>
public class RoundFiveFileTests
{
    static Cifar10Options Options(string data, string outDir) =>
        new()
        {
            DataDir = data,
            OutDir = outDir,
            Epochs = 2,
            LogEvery = 10,
            Seed = 3,
            LimitTrain = 40,
            LimitTest = 20,
            Resume = true,
        };

    [SkippableTheory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    public void CheckpointThatIsAFifoOrALinkToADevice_IsRefused_NotAHang(string kind)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs and /dev/zero");
        string data = TestEnvironment.NewTempDir(),
            outDir = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 20, test: 20, seed: 4);
        string checkpoint = Path.Combine(outDir, Cifar10Lab.CheckpointName);
        if (kind == "fifo")
            Assert.Equal(0, TestEnvironment.Run("mkfifo", [checkpoint]).ExitCode);
        else
            File.CreateSymbolicLink(checkpoint, kind);
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() => Cifar10Lab.Run(Options(data, outDir)));
        // before: a hang
        Assert.True(Task.WaitAny([run], TimeSpan.FromSeconds(60)) == 0, "cifar10 --resume hung on the checkpoint");
        var e = Assert.IsType<TorchLabs.Runtime.UsageException>(run.Exception!.InnerException);
        Assert.Contains("not a regular file", e.Message); // before: a hang, or OutOfMemoryException at 2.3 GB
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }

    [SkippableFact]
    public void CifarBatchesThatAreLinksToValidFiles_AreRead()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links");
        string shared = TestEnvironment.NewTempDir(),
            data = TestEnvironment.NewTempDir();
        string real = SyntheticCifar.WriteFolder(shared, trainPerFile: 20, test: 20, seed: 5);
        string linked = Path.Combine(data, Cifar10.FolderName);
        Directory.CreateDirectory(linked);
        foreach (string f in Directory.GetFiles(real))
            File.CreateSymbolicLink(Path.Combine(linked, Path.GetFileName(f)), f);
        // before: "52 bytes is not a whole number of records" (the link's length)
        var set = Cifar10.Load(linked, train: true);
        Assert.Equal(100, set.Count);
    }
}
