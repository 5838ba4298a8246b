using TorchLabs.Functions;

namespace TorchLabs.Gradients;

/// <summary>Every activation's derivative three ways (hand, libtorch autograd, central differences), kinks noted
/// (`gradcheck activations`).</summary>
public static class ActivationsCheck
{
    public static NetworkCheckResult Run()
    {
        double[] grid = Activations.Grid();
        var entries = new List<GradEntry>();
        var notes = new List<string>();
        foreach (var a in Activations.All)
        {
            using var scope = NewDisposeScope();
            var x = tensor(grid, ScalarType.Float64).requires_grad_(true);
            a.Torch(x).sum().backward();
            double[] auto = GradCheck.Values(x.grad!);
            double[] hand = grid.Select(a.Derivative).ToArray();
            // Central differences on the sum, except at a kink (where they give the mean of the one-sided slopes).
            var smooth = Enumerable
                .Range(0, grid.Length)
                .Where(i => a.Kink is null || Math.Abs(grid[i] - a.Kink.Value) > 1e-12)
                .ToArray();
            double h = HandVsAutograd.Step;
            double[] numeric = smooth.Select(i => (a.F(grid[i] + h) - a.F(grid[i] - h)) / (2 * h)).ToArray();
            entries.Add(
                new GradEntry(
                    $"{a.Name}'(x)",
                    [smooth.Length],
                    smooth.Select(i => hand[i]).ToArray(),
                    smooth.Select(i => auto[i]).ToArray(),
                    numeric
                )
            );
            if (a.Kink is double k)
            {
                int i0 = Array.IndexOf(grid, k);
                entries.Add(
                    new GradEntry(
                        $"{a.Name}'({k})",
                        [],
                        [hand[i0]],
                        [auto[i0]],
                        null,
                        $"kink: libtorch takes {auto[i0]}, central differences would give {(a.F(k + h) - a.F(k - h)) / (2 * h):G6}"
                    )
                );
                notes.Add($"{a.Name} at its kink x = {k}: libtorch's derivative is {auto[i0]} (hand {hand[i0]}).");
            }
        }
        return new NetworkCheckResult("activations", double.NaN, entries, notes);
    }
}
