using TorchLabs.Fuzz;

namespace TorchLabs.Tests.Fuzz;

/// <summary>
/// Every input of every harness's corpus (tests/TorchLabs.Fuzz/corpus/NAME: the seeds, and each finding of a fuzzing
/// run once it is fixed) replayed through the harness: it ends in success or the bad-input error, never another
/// exception, and within a bound that only a hang exceeds (the fuzzer itself holds each input to 1 s).
/// </summary>
public class CorpusReplayTests
{
    static string Corpus(string harness) =>
        Path.Combine(TestEnvironment.RepoRoot, "tests", "TorchLabs.Fuzz", "corpus", harness);

    public static TheoryData<string> Names() => [.. Harnesses.All.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryCorpusInput_EndsInSuccessOrTheBadInputError(string harness)
    {
        string[] files = Directory.GetFiles(Corpus(harness), "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var e = Record.Exception(() => Harnesses.Run(harness, File.ReadAllBytes(file)));
            Assert.True(e is null, $"{Path.GetRelativePath(Corpus(harness), file)}: {e}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{file}: {clock.Elapsed}");
        }
    }

    [Fact]
    public void EveryHarness_HasACorpus() =>
        Assert.Equal(
            Harnesses.All.Keys.Order(),
            Directory
                .GetDirectories(Path.Combine(TestEnvironment.RepoRoot, "tests", "TorchLabs.Fuzz", "corpus"))
                .Select(Path.GetFileName)
                .Order()!
        );
}
