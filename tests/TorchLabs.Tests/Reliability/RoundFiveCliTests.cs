namespace TorchLabs.Tests.Reliability;

/// <summary>
/// docs/reliability.md, round five: the number, path and option defects a new user's probe found, each one line and the
/// right exit code (2 bad input, 1 a finding, 0 a run), in the command and in a sweep's check of its trials alike.
/// </summary>
public class RoundFiveCliTests
{
    public static TheoryData<string, string[]> BadInput() =>
        new()
        {
            // --lr beyond float32 (was an internal "cannot be converted to type float without overflow")
            { "float32's largest", ["cifar10", "--lr", "3.5e38", "--data", "nowhere"] },
            { "float32's largest", ["fashion-mnist", "--lr", "1e39", "--data", "nowhere"] },
            { "float32's largest", ["vanishing", "--lr", "3.5e38"] },
            // batch sizes beyond the data (were "Sequence contains no elements" and libtorch's "can't allocate")
            { "from 1 to 50,000", ["cifar10", "--batch-size", "2147483647", "--data", "nowhere", "--threads", "1"] },
            { "from 1 to 60,000", ["fashion-mnist", "--batch-size", "1000000000", "--data", "nowhere"] },
            // an empty --data (was an internal ArgumentException, exit 1)
            { "--data \"\": expected a folder name", ["cifar10", "--data", ""] },
            { "--data \"\": expected a folder name", ["all", "--data", "", "--out", "unused"] },
            // seeds a 32-bit generator would wrap (2147483648 and 0 gave one start; -1 equalled 1)
            {
                "--seed 2147483648: expected a whole number from 0 to 2,147,483,647",
                ["optimizers", "--seed", "2147483648"]
            },
            { "--seed -1: expected a whole number from 0", ["optimizers", "--seed", "-1"] },
            { "--seed 4294967296", ["vector-backprop", "--seed", "4294967296", "--iterations", "1", "--threads", "1"] },
            // Slurm values with a trailing newline or non-ASCII digits (were written into the script)
            {
                "--slurm-time",
                [
                    "sweep",
                    "optimizers",
                    "--grid",
                    "lr=0.1",
                    "--executor",
                    "slurm",
                    "--slurm-time",
                    "30\n",
                    "--dry-run",
                    "--out",
                    "unused-sweep",
                ]
            },
            {
                "--slurm-time",
                [
                    "sweep",
                    "optimizers",
                    "--grid",
                    "lr=0.1",
                    "--executor",
                    "slurm",
                    "--slurm-time",
                    "٣٠",
                    "--dry-run",
                    "--out",
                    "unused-sweep",
                ]
            },
            // a sweep refuses what its trials would refuse (the lab's own check)
            { "float32's largest", ["sweep", "cifar10", "--grid", "lr=3.5e38", "--dry-run", "--out", "unused-sweep"] },
            // a chain of schedulers is capped (5,000 parts ran 87 s)
            {
                "at most 32",
                [
                    "conformance",
                    "scheduler",
                    "ChainedScheduler",
                    "--set",
                    "schedulers=" + string.Join("+", Enumerable.Repeat("StepLR(step_size=1)", 33)),
                ]
            },
        };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void BadValue_IsOneLine_Exit2(string expected, string[] args) =>
        TestEnvironment.OneLine(TestEnvironment.RunInProcess(args), 2, expected);

    [Fact]
    public void Rprop_WithStepSizesMinAboveMax_RunsAsPyTorch()
    {
        var r = TestEnvironment.RunInProcess("conformance", "optimizer", "Rprop", "--set", "step_sizes=0.5,0.1");
        // before: an internal ArgumentException (Math.Clamp refuses min > max; torch.clamp
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("agrees", r.StdOut); // gives max)
    }

    [Fact]
    public void SingleCaseConformance_WithAnUnexplainedDifference_Exits1_AsTheGridDoes()
    {
        var r = TestEnvironment.RunInProcess("conformance", "optimizer", "NAdam", "--set", "lr=1e308");
        Assert.Contains("not a known difference", r.StdOut);
        Assert.Equal(1, r.ExitCode); // before: 0
    }

    [Fact]
    public void OptimizerRace_OfFewerStepsThanTheNesterovTable_Runs()
    {
        var r = TestEnvironment.RunInProcess("optimizers", "--steps", "3", "--out", TestEnvironment.NewTempDir());
        // before: an internal IndexOutOfRangeException (the table showed 5 steps)
        Assert.True(r.ExitCode == 0, r.StdErr);
    }
}

/// <summary>#44: one --impl vocabulary in every command; the old spellings are refused with the new one
/// named.</summary>
public class ImplVocabularyTests
{
    [Theory]
    [InlineData("--impl \"autograd\" is now --impl torch", "cifar10", "--impl", "autograd")]
    [InlineData("--impl \"both\" is now --impl all", "vector-backprop", "--impl", "both")]
    [InlineData("--backward is now --impl", "fashion-mnist", "--backward", "hand")]
    [InlineData("--impl \"autograd\" is now --impl torch", "bench", "cifar-net-train", "--impl", "autograd")]
    [InlineData("--impl \"lbfgs\": expected torch or fast", "cifar10", "--impl", "lbfgs")]
    public void OldOrUnknownWord_IsOneLine_NamingTheWords(string expected, params string[] args) =>
        TestEnvironment.OneLine(TestEnvironment.RunInProcess(args), 2, expected);
}
