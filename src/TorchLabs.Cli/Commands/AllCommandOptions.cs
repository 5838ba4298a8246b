using TorchLabs.AllLabs;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs all`'s options, bound into the labs to run and their <see cref="LabContext"/>.</summary>
sealed class AllCommandOptions
{
    readonly Option<string> outDir = CommonOptions.Out("report");
    readonly Option<long> seed = CommonOptions.Seed();
    readonly Option<int?> threads = CommonOptions.Threads();
    readonly Option<string> device = CommonOptions.Device();
    readonly Option<string> data = CommonOptions.Data();
    readonly Option<string[]> only = new("--only")
    {
        Description = "Run only these labs (by id: " + string.Join(", ", LabRegistry.All.Select(l => l.Id)) + ")",
        AllowMultipleArgumentsPerToken = true,
    };
    readonly Option<bool> quick = new("--quick")
    {
        Description =
            "Every lab at its smallest settings: a smoke run of the whole report in about a minute (Fashion-MNIST on 300 images for 2 epochs, a small vector-backprop network, shallow vanishing stacks; their numbers are not the documents')",
    };
    readonly Option<string> format = CommonOptions.Format();

    public IEnumerable<Symbol> Symbols => [outDir, seed, threads, device, data, only, quick, format];

    public (IReadOnlyList<ReportLab> Labs, LabContext Context, bool Json) Bind(ParseResult p)
    {
        var dev = CommonOptions.Setup(p.GetValue(threads), p.GetValue(device)!);
        var labs = LabRegistry.All;
        if (p.GetValue(only) is { Length: > 0 } chosen)
        {
            var unknown = chosen.Where(c => labs.All(l => l.Id != c)).ToList();
            if (unknown.Count > 0)
                throw new UsageException(
                    $"--only {string.Join(",", unknown)}: unknown lab; expected one of {string.Join(", ", labs.Select(l => l.Id))}"
                );
            labs = [.. labs.Where(l => chosen.Contains(l.Id))];
        }
        var context = new LabContext(
            Path.GetFullPath(p.GetValue(outDir)!),
            p.GetValue(seed),
            Path.GetFullPath(p.GetValue(data)!),
            dev,
            Threads: p.GetValue(threads),
            Quick: p.GetValue(quick),
            ShowSettings: Outcome.Flags
        );
        return (labs, context, p.GetValue(format) == "json");
    }
}
