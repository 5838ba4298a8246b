// TorchSharp 0.107's DataLoader(shuffle: true) draws from System.Random, not from torch's generator: seeded, it gives
// the same order every epoch; unseeded, torch.manual_seed does not reach it (docs/conformance.md).
// Run from the repository root: dotnet run examples/upstream/dataloader_shuffle.cs
// Outside it: replace the line below by #:package TorchSharp-cpu@0.107.0.
#:property UsesTorchSharp=true
#:property PublishAot=false
using TorchSharp;
using static TorchSharp.torch;

string Epoch(TorchSharp.Modules.DataLoader loader) =>
    string.Join(" ", loader.SelectMany(batch => batch["i"].data<long>().ToArray()));

using (var seeded = torch.utils.data.DataLoader(new Indices(10), 4, shuffle: true, seed: 1))
    for (int epoch = 1; epoch <= 3; epoch++)
        Console.WriteLine($"seed 1, epoch {epoch}: {Epoch(seeded)}"); // PyTorch: 4 2 0 6 8 7 9 1 5 3, then others
torch.manual_seed(1);
using (var unseeded = torch.utils.data.DataLoader(new Indices(10), 4, shuffle: true))
    Console.WriteLine($"after torch.manual_seed(1), no seed: {Epoch(unseeded)}"); // PyTorch: 4 2 0 6 8 7 9 1 5 3

/// <summary>The indices 0 .. n − 1: a loader's batches show its order.</summary>
sealed class Indices(long n) : torch.utils.data.Dataset
{
    public override long Count => n;

    public override Dictionary<string, Tensor> GetTensor(long index) => new() { ["i"] = tensor(new[] { index }) };
}
