using System.Text.Json;
using TorchLabs.Data;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Reliability;

/// <summary>
/// The defects a new user's 150 bad inputs found (issue "Reliability, round two"), each reproduced through the command
/// as the user ran it: the documented exit code, one line on stderr, no stack trace.
/// </summary>
public class BadInputTests
{
    static void OneLine(TestEnvironment.ProcessResult r, int exitCode, string contains) =>
        TestEnvironment.OneLine(r, exitCode, contains);

    [Trait("Speed", "Slow")]
    [Fact]
    public void ThreadsWithoutBound_IsBadInput() =>
        OneLine(
            TestEnvironment.RunInProcess("info", "--threads", "100000", "--format", "json"),
            2,
            "--threads 100000: expected at most"
        );

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("vanishing --depth 2 --width 1000000", "--depth 2 --width 1000000: would need about")]
    [InlineData("gradcheck dropout-concat --d 100000", "900,023 values to check by central differences")]
    [InlineData("gradcheck mlp-l2 --sizes 1000,1000,1000", "values to check by central differences")]
    [InlineData("fashion-mnist --hidden 100000000", "--hidden 100000000: would need about")]
    [InlineData("vector-backprop --dims 12288,100000,1 --m 200000", "would need about")]
    [InlineData("optimizers --optimizer gd --steps 2000000000", "--steps 2000000000: would need about")]
    public void UnboundedSizes_AreRefusedUpFront_SayingHowMuch(string command, string expected) =>
        OneLine(TestEnvironment.RunInProcess([.. command.Split(' '), "--threads", "1"]), 2, expected);

    [Trait("Speed", "Slow")]
    [Fact]
    public void CaseFileTooLarge_IsRefusedBeforeParsingTheMatrices()
    {
        int d = 100_000;
        string path = Path.Combine(TestEnvironment.NewTempDir(), "big.json");
        File.WriteAllText(
            path,
            $"{{\"x\": [{string.Join(",", Enumerable.Repeat("1", d))}], \"b1\": [1,2,3,4,5], \"b2\": [1,2,3]}}"
        );
        OneLine(
            TestEnvironment.RunInProcess("gradcheck", "dropout-concat", "--case", path),
            2,
            "d = 100000, s = 5, k = 3"
        );
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void MissingTrainingBatch_IsBadInputNamingTheFile_AndJsonCountsTheImages()
    {
        string root = TestEnvironment.NewTempDir();
        string folder = SyntheticCifar.WriteFolder(root, 8, 8, seed: 3);
        var full = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            root,
            "--epochs",
            "1",
            "--out",
            Path.Combine(root, "out"),
            "--format",
            "json"
        );
        Assert.True(full.ExitCode == 0, full.StdErr);
        using (var doc = JsonDocument.Parse(full.StdOut))
            Assert.Equal(40, doc.RootElement.GetProperty("trainImages").GetInt32());
        Assert.Contains("data: 40 training and 8 test images", full.StdErr);
        File.Delete(Path.Combine(folder, "data_batch_5.bin"));
        OneLine(
            TestEnvironment.RunInProcess(
                "cifar10",
                "--data",
                root,
                "--epochs",
                "1",
                "--out",
                Path.Combine(root, "out2")
            ),
            2,
            "data_batch_5.bin: no such file"
        );
    }

    static (string Root, string Out) TrainedCifar(int epochs = 1)
    {
        string root = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(root, 8, 8, seed: 4);
        string outDir = Path.Combine(root, "out");
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            root,
            "--epochs",
            epochs.ToString(),
            "--out",
            outDir,
            "--threads",
            "1"
        );
        Assert.True(r.ExitCode == 0, r.StdErr);
        return (root, outDir);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("flip")]
    [InlineData("append")]
    public void CorruptCheckpoint_IsRefused_WithoutEchoingItsBytes(string damage)
    {
        var (root, outDir) = TrainedCifar();
        string checkpoint = Path.Combine(outDir, "checkpoint.dat");
        byte[] bytes = File.ReadAllBytes(checkpoint);
        if (damage == "flip")
            bytes[bytes.Length / 2] ^= 0x01;
        else
            bytes = [.. bytes, 1, 2, 3, 4, 5];
        File.WriteAllBytes(checkpoint, bytes);
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            root,
            "--epochs",
            "2",
            "--out",
            outDir,
            "--resume",
            "--threads",
            "1"
        );
        OneLine(r, 2, "corrupt or truncated checkpoint");
        Assert.DoesNotContain('\uFFFD', r.StdErr);
        Assert.All(r.StdErr, c => Assert.True(c == '\n' || c >= ' ', $"control character {(int)c} in the message"));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void ChangedSettingsOnResume_AreRefusedListingBoth_ButANewLearningRateIsAllowedAndLogged()
    {
        var (root, outDir) = TrainedCifar();
        OneLine(
            TestEnvironment.RunInProcess(
                "cifar10",
                "--data",
                root,
                "--epochs",
                "2",
                "--out",
                outDir,
                "--resume",
                "--momentum",
                "0.5",
                "--threads",
                "1"
            ),
            2,
            "--momentum 0.9 stored, 0.5 given"
        );
        var lr = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            root,
            "--epochs",
            "2",
            "--out",
            outDir,
            "--resume",
            "--lr",
            "0.01",
            "--threads",
            "1"
        );
        Assert.True(lr.ExitCode == 0, lr.StdErr);
        Assert.Contains("with the learning rate 0.01 (the checkpoint's run used 0.001)", lr.StdOut);
    }

    static string MnistFolder(int trainRows, int trainCols, int testRows = 28, int testCols = 28)
    {
        string dir = TestEnvironment.NewTempDir();
        Idx.Write(
            Path.Combine(dir, "train-images-idx3-ubyte"),
            Idx.ImagesMagic,
            [64, trainRows, trainCols],
            new byte[64 * trainRows * trainCols]
        );
        Idx.Write(
            Path.Combine(dir, "train-labels-idx1-ubyte"),
            Idx.LabelsMagic,
            [64],
            Enumerable.Range(0, 64).Select(i => (byte)(i % 10)).ToArray()
        );
        Idx.Write(
            Path.Combine(dir, "t10k-images-idx3-ubyte"),
            Idx.ImagesMagic,
            [16, testRows, testCols],
            new byte[16 * testRows * testCols]
        );
        Idx.Write(
            Path.Combine(dir, "t10k-labels-idx1-ubyte"),
            Idx.LabelsMagic,
            [16],
            Enumerable.Range(0, 16).Select(i => (byte)(i % 10)).ToArray()
        );
        return dir;
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void FashionMnistResume_WithOtherActivationOrHidden_IsRefused()
    {
        string data = MnistFolder(28, 28),
            outDir = TestEnvironment.NewTempDir();
        string[] run =
        [
            "fashion-mnist",
            "--dataset",
            "mnist",
            "--data",
            data,
            "--optimizer",
            "sgd",
            "--train",
            "64",
            "--test",
            "16",
            "--out",
            outDir,
            "--threads",
            "1",
        ];
        Assert.Equal(0, TestEnvironment.RunInProcess([.. run, "--epochs", "1"]).ExitCode);
        OneLine(
            TestEnvironment.RunInProcess([.. run, "--epochs", "2", "--resume", "--activation", "relu"]),
            2,
            "--activation sigmoid stored, relu given"
        );
        OneLine(
            TestEnvironment.RunInProcess([.. run, "--epochs", "2", "--resume", "--hidden", "50"]),
            2,
            "--hidden 28 stored, 50 given"
        );
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData(20, 20, 28, 28)]
    [InlineData(14, 56, 14, 56)]
    public void IdxImagesNot28By28_AreBadInputNamingTheFile(int rows, int cols, int testRows, int testCols)
    {
        string data = MnistFolder(rows, cols, testRows, testCols);
        OneLine(
            TestEnvironment.RunInProcess(
                "fashion-mnist",
                "--dataset",
                "mnist",
                "--data",
                data,
                "--optimizer",
                "sgd",
                "--epochs",
                "1",
                "--train",
                "64",
                "--test",
                "16",
                "--out",
                TestEnvironment.NewTempDir()
            ),
            2,
            $"images of {rows} × {cols} pixels; expected 28 × 28"
        );
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void StaleTemporariesOfDeadProcesses_AreRemoved_LiveOnesKept()
    {
        var (root, outDir) = TrainedCifar();
        string dead = Path.Combine(outDir, ".checkpoint.dat.tmp-999999999");
        string live = Path.Combine(outDir, $".checkpoint.dat.tmp-{Environment.ProcessId}");
        File.WriteAllText(dead, "left by a killed run");
        File.WriteAllText(live, "still being written");
        // A process of its own: the test host's id is the live writer's.
        Assert.Equal(
            0,
            TestEnvironment
                .RunCli("cifar10", "--data", root, "--epochs", "2", "--out", outDir, "--resume", "--threads", "1")
                .ExitCode
        );
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void OptimizersHugeLearningRate_StopsWithTheStep_InsteadOfNaNTrajectories() =>
        OneLine(
            TestEnvironment.RunInProcess(
                "optimizers",
                "--optimizer",
                "gd",
                "--lr",
                "1e300",
                "--steps",
                "20",
                "--format",
                "json"
            ),
            1,
            "diverged: x is not finite from step"
        );
}
