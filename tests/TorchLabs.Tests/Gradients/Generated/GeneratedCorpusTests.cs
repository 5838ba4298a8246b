using System.Text.Json;
using Xunit.Abstractions;

namespace TorchLabs.Tests.Gradients.Generated;

/// <summary>
/// Differential testing of GradCheck against PyTorch 1.13's gradcheck on generated cases
/// (scripts/golden/gradcheck_generated.py): the checked-in corpus, or a fresh batch named by TORCHLABS_GRADCHECK_CORPUS
/// (.ci/run makes one with a new seed on every run). Every case gives PyTorch's verdict, and where PyTorch raises a
/// GradcheckError, its first line, except where a listed deliberate difference explains it.
/// </summary>
public class GeneratedCorpusTests(ITestOutputHelper output)
{
    /// <summary>A difference from PyTorch kept on purpose, with its reason.</summary>
    public sealed record Deliberate(string Name, string Reason, Func<GeneratedCase, Answer, Answer, bool> Explains);

    public static readonly Deliberate[] DeliberateDifferences =
    [
        new(
            "a gradient of the wrong shape is a failure, not an error",
            "TorchSharp 0.107's autograd.grad ends the process when libtorch raises inside backward; GradCheck asks through "
                + "autograd.backward(…, inputs), which raises, and reports the engine's error as a failed check",
            (_, py, ours) =>
                py.Verdict == "error"
                && py.Message.Contains("returned an invalid gradient")
                && ours.Verdict == "fail"
                && ours.Message.StartsWith("Backward of output")
        ),
        new(
            "an integer output before a floating-point one",
            "PyTorch 1.13 allocates numerical Jacobians for the floating-point outputs only but fills them by position among all "
                + "outputs (a bug of PyTorch's): an integer output ahead shifts them, so it raises IndexError or judges one output by "
                + "another's differences; GradCheck leaves the integer output out and checks the others",
            (c, py, ours) => ours.Verdict != "error" && c.OutputKinds().TrimEnd('i').Contains('i')
        ),
        new(
            "fast mode pairs outputs by position",
            "PyTorch 1.13's fast mode pairs the v of the outputs with a graph with J·u of every floating-point output, so a "
                + "floating-point output without a graph before one with a graph shifts the pairs and fails a correct function; "
                + "GradCheck pairs them by position",
            (c, py, ours) =>
                c.FastMode
                && py.Verdict != ours.Verdict
                && c.OutputKinds().TrimStart('i').StartsWith('f')
                && c.OutputKinds().Contains('g')
        ),
        new(
            "fast mode with float32 and float64 inputs",
            "PyTorch 1.13's fast mode multiplies a float32 u by a float64 vᵀJ without promoting one of them and raises "
                + "\"Float did not match Double\"; GradCheck computes vᵀJu in float64 and gives a verdict",
            (c, py, ours) =>
                c.FastMode
                && py.Verdict == "error"
                && ours.Verdict != "error"
                && (
                    py.Message.Contains("Float did not match Double")
                    || py.Message.Contains("Double did not match Float")
                )
        ),
    ];

    static string CheckedInPath => Path.Combine(AppContext.BaseDirectory, "Golden", "gradcheck_generated.json");

    static string CorpusPath =>
        Environment.GetEnvironmentVariable("TORCHLABS_GRADCHECK_CORPUS") is { Length: > 0 } fresh
            ? fresh
            : CheckedInPath;

    static readonly JsonElement Corpus = JsonDocument.Parse(File.ReadAllText(CorpusPath)).RootElement;

    static IReadOnlyList<GeneratedCase> Cases(JsonElement corpus) =>
        [.. corpus.GetProperty("cases").EnumerateArray().Select(c => new GeneratedCase(c))];

    /// <summary>Same verdict, and the same first line where PyTorch raised a GradcheckError (with raise_exception=False
    /// it returns False and says nothing, so only the verdict is compared).</summary>
    public static bool Agree(GeneratedCase c, Answer py, Answer ours) =>
        py.Verdict == ours.Verdict && (py.Verdict != "fail" || py.Message.Length == 0 || py.Message == ours.Message);

    /// <summary>Runs every case; the cases that differ with no deliberate difference to explain them, and the count
    /// each deliberate difference explained.</summary>
    public static (List<(GeneratedCase Case, Answer Ours)> Unexplained, Dictionary<string, int> Explained) Compare(
        IReadOnlyList<GeneratedCase> cases
    )
    {
        var unexplained = new List<(GeneratedCase, Answer)>();
        var explained = DeliberateDifferences.ToDictionary(d => d.Name, _ => 0);
        foreach (var c in cases)
        {
            var ours = c.GradCheck();
            if (Agree(c, c.PyTorch, ours))
                continue;
            if (DeliberateDifferences.FirstOrDefault(d => d.Explains(c, c.PyTorch, ours)) is { } d)
                explained[d.Name]++;
            else
                unexplained.Add((c, ours));
        }
        return (unexplained, explained);
    }

    [Fact]
    public void Corpus_EveryCaseGivesPyTorchsAnswer_OrADeliberateDifference()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cases = Cases(Corpus);
        var (unexplained, explained) = Compare(cases);
        int n = cases.Count;
        output.WriteLine(
            $"{CorpusPath} (seed {Corpus.GetProperty("seed").GetInt32()}): {n} cases, {n - unexplained.Count - explained.Values.Sum()} agree, "
                + $"{explained.Values.Sum()} deliberate, {unexplained.Count} unexplained, {clock.ElapsedMilliseconds} ms"
        );
        foreach (var (name, count) in explained)
            output.WriteLine($"  deliberate: {name}: {count}");
        foreach (var (c, ours) in unexplained.Take(20))
            output.WriteLine(
                $"{c.Id}: PyTorch {c.PyTorch.Verdict} \"{c.PyTorch.Message}\", GradCheck {ours.Verdict} \"{ours.Message}\"\n  {c.Json}"
            );
        Assert.True(
            unexplained.Count == 0,
            $"{unexplained.Count} of {n} cases differ from PyTorch; the first: "
                + string.Join(
                    "\n",
                    unexplained
                        .Take(5)
                        .Select(u =>
                            $"{u.Case.Id}: PyTorch {u.Case.PyTorch.Verdict} \"{u.Case.PyTorch.Message}\", "
                            + $"GradCheck {u.Ours.Verdict} \"{u.Ours.Message}\"\n{u.Case.Json}"
                        )
                )
        );
    }

    [Fact]
    public void CheckedInCorpus_HasAtLeast500Cases_OfEveryVerdict()
    {
        var cases = Cases(JsonDocument.Parse(File.ReadAllText(CheckedInPath)).RootElement);
        Assert.True(cases.Count >= 500, $"{cases.Count} cases");
        Assert.All(new[] { "pass", "fail", "error" }, v => Assert.Contains(cases, c => c.PyTorch.Verdict == v));
    }

    /// <summary>The package README states the checked-in corpus's size and agreement as measured here.</summary>
    [Fact]
    public void PackageReadme_StatesTheMeasuredAgreement()
    {
        var cases = Cases(JsonDocument.Parse(File.ReadAllText(CheckedInPath)).RootElement);
        var (unexplained, explained) = Compare(cases);
        Assert.Empty(unexplained);
        int deliberate = explained.Values.Sum();
        string readme = File.ReadAllText(
                Path.Combine(TestEnvironment.RepoRoot, "src", "TorchLabs.GradCheck", "README.md")
            )
            .Replace("\n", " ");
        Assert.Contains(
            $"generated corpus of {cases.Count} cases, GradCheck gives PyTorch's verdict and the first line of its "
                + $"message on {cases.Count - deliberate}, and differs on {deliberate}, each one of the deliberate differences",
            readme
        );
        foreach (var d in DeliberateDifferences.Take(4))
            Assert.Contains(d.Name.Split(' ')[0], readme);
    }
}
