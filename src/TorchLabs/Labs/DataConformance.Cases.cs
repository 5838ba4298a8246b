using System.Text.Json;
using TorchLabs.Data;

namespace TorchLabs.Labs;

public static partial class DataConformance
{
    /// <summary>The record indices 0 .. n − 1 as a TorchSharp dataset: a loader's batches show its order.</summary>
    sealed class Indices(long n) : utils.data.Dataset
    {
        public override long Count => n;

        public override Dictionary<string, Tensor> GetTensor(long index) =>
            new() { ["index"] = tensor(new[] { index }) };
    }

    /// <summary>The records of <paramref name="epochs"/> passes of a TorchSharp loader over <see cref="Indices"/>,
    /// and each pass's batch sizes.</summary>
    static (long[][] Orders, int[][] Sizes) Passes(TorchSharp.Modules.DataLoader loader, int epochs)
    {
        var orders = new long[epochs][];
        var sizes = new int[epochs][];
        for (int e = 0; e < epochs; e++)
        {
            var order = new List<long>();
            var batchSizes = new List<int>();
            foreach (var batch in loader)
            {
                long[] indices = batch["index"].data<long>().ToArray();
                order.AddRange(indices);
                batchSizes.Add(indices.Length);
            }
            (orders[e], sizes[e]) = (order.ToArray(), batchSizes.ToArray());
        }
        return (orders, sizes);
    }

    /// <summary>A loader, sampler or drop_last golden of scripts/golden/data_pipeline.py: n items, the batch size,
    /// the seed and the order of each epoch (what a golden does not have is 0 or null).</summary>
    sealed record Golden(int N, int Batch, long Seed, long[][] Orders)
    {
        static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

        public static Golden Of(JsonElement e) => e.Deserialize<Golden>(Options)!;
    }

    /// <summary>"epoch E, index I" where two lists of orders first differ; "" when they agree.</summary>
    static string FirstDifferentIndex(long[][] expected, long[][] actual)
    {
        for (int e = 0; e < expected.Length; e++)
        {
            int i = 0;
            while (i < expected[e].Length && i < actual[e].Length && expected[e][i] == actual[e][i])
                i++;
            if (i < expected[e].Length || i < actual[e].Length)
                return $"epoch {e + 1}, index {i}";
        }
        return "";
    }

    static string Epochs(long[][] orders) =>
        string.Join("; ", orders.Select((o, e) => $"epoch {e + 1}: {Few(o)}"))
        + (orders.Length > 1 && orders.All(o => o.SequenceEqual(orders[0])) ? " (the same every epoch)" : "");

    /// <summary>TorchVision's datasets.CIFAR10 on generated files: the pixel values after ToTensor and after
    /// Normalize, and a file of fewer than 10,000 records.</summary>
    static IEnumerable<DataCase> CifarCases(string root)
    {
        double[] toTensor = Table("toTensor"),
            normalized = Table("normalize");
        int count = Goldens.GetProperty("cifar").GetProperty("records").GetInt32();
        string full = Path.Combine(root, "full");
        string folder = WriteTestBatch(full, TorchVisionRecords);
        using var set = torchvision.datasets.CIFAR10(full, train: false);
        using var normalize = (IDisposable)torchvision.transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
        float[] Image(int i) => set.GetTensor(i)["data"].data<float>().ToArray();
        float[] Normalized(int i)
        {
            using var batch = set.GetTensor(i)["data"].unsqueeze(0);
            using var x = ((torchvision.ITransform)normalize).call(batch);
            return x.data<float>().ToArray();
        }
        var ours = Cifar10.Load(folder, train: false, count);
        float[] Ours(int i, bool norm)
        {
            using var bytes = tensor(ours.Pixels.AsSpan(i * Pixels, Pixels).ToArray());
            using var x = norm ? Cifar10.Normalize(bytes) : Cifar10.ToTensor(bytes);
            return x.data<float>().ToArray();
        }
        foreach (bool norm in new[] { false, true })
        {
            double[] table = norm ? normalized : toTensor;
            yield return PixelCase(
                norm ? "+ Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))" : "datasets.CIFAR10 + ToTensor(): pixel values",
                table,
                FirstOff(norm ? Normalized : Image, count, table),
                FirstOff(i => Ours(i, norm), count, table) is null,
                norm
                    ? "follows from the 1/256 above: (p/256 − 0.5)/0.5 tops out at 0.9921875, not 1"
                    : "TorchVision's CIFAR10 divides each byte by 256.0f (src/TorchVision/dsets/CIFAR.cs), PyTorch's "
                        + "ToTensor by 255, so no pixel but 0 matches; it also makes one float tensor per image"
            );
        }
        yield return PartialFile(root, count);
    }

    static DataCase PixelCase(
        string name,
        double[] table,
        (int Record, int Element, float Value)? off,
        bool oursAgree,
        string cause
    )
    {
        string ours = Ours(oursAgree, "PyTorch's, every value (Cifar10.ToTensor, Cifar10.Normalize)");
        if (off is not (int r, int j, float v))
            return new DataCase(name, "PyTorch's value for every byte", "the same", "", ours, cause, !oursAgree);
        int b = Byte(r, j);
        return new DataCase(
            name,
            $"byte {b} → {G(table[b])}",
            $"byte {b} → {G(v)}",
            $"record {r}, element {j}",
            ours,
            cause,
            !oursAgree
        );
    }

    /// <summary>A batch file of <paramref name="count"/> records: PyTorch reads them, TorchVision refuses the
    /// file.</summary>
    static DataCase PartialFile(string root, int count)
    {
        string partial = Path.Combine(root, "partial");
        string folder = WriteTestBatch(partial, count);
        string torchSharp;
        try
        {
            using var set = torchvision.datasets.CIFAR10(partial, train: false);
            torchSharp = $"{set.Count} records";
        }
        catch (InvalidDataException e)
        {
            torchSharp = $"refused: {e.GetType().Name} (\"Not a proper CIFAR10 file\")";
        }
        int ours = Cifar10.Load(folder, train: false).Count;
        return new DataCase(
            $"datasets.CIFAR10 on a batch file of {count} records",
            $"{count} records",
            torchSharp,
            torchSharp == $"{count} records" ? "" : "the record count",
            Ours(ours == count, $"{ours} records (Cifar10.Load)"),
            $"TorchVision requires exactly {TorchVisionRecords:N0} records in every batch file (const int count = 10000)",
            ours != count
        );
    }

    /// <summary>transforms.Normalize on one image [3, 32, 32], as PyTorch takes it.</summary>
    static DataCase NormalizeOneImage()
    {
        var golden = Goldens.GetProperty("cifar").GetProperty("normalizeOneImage");
        double[] first = [.. golden.GetProperty("first").EnumerateArray().Select(v => v.GetDouble())];
        using var bytes = tensor(Enumerable.Range(0, Pixels).Select(j => Byte(0, j)).ToArray(), [3, 32, 32]);
        using var image = Cifar10.ToTensor(bytes);
        using var normalize = (IDisposable)torchvision.transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
        bool Matches(Tensor x) =>
            x.shape.SequenceEqual([3L, 32, 32])
            && x.data<float>().Take(first.Length).Select((v, i) => v == (float)first[i]).All(same => same);
        string torchSharp;
        bool torchSharpAgrees = false;
        try
        {
            using var x = ((torchvision.ITransform)normalize).call(image);
            torchSharpAgrees = Matches(x);
            torchSharp = $"shape [{string.Join(", ", x.shape)}]" + (torchSharpAgrees ? "" : ", other values");
        }
        catch (ArgumentException e)
        {
            torchSharp = $"refused: {e.GetType().Name} (\"The number of channels is not equal…\")";
        }
        using var ours = Cifar10.Normalize(bytes);
        bool oursAgree = Matches(ours);
        string pyTorch = $"shape [3, 32, 32], {G(first[0])}, {G(first[1])}, …";
        return new DataCase(
            "transforms.Normalize on one image [3, 32, 32]",
            pyTorch,
            torchSharp,
            torchSharpAgrees ? "" : "the call",
            Ours(oursAgree, "PyTorch's values (Cifar10.Normalize takes any shape)"),
            "TorchVision's Normalize keeps its means as [1, C, 1, 1] and compares input.size(1) with C, so it takes "
                + "only N×C×H×W batches; unsqueeze(0) first",
            !oursAgree
        );
    }

    /// <summary>DataLoader(shuffle=True) over three epochs: PyTorch after torch.manual_seed(S), TorchSharp's loader
    /// with seed: S, TorchLabs' Cifar10Loader with a generator seeded S.</summary>
    static DataCase LoaderCase(JsonElement element)
    {
        var golden = Golden.Of(element);
        var (n, batch, seed, expected) = golden;
        using var loader = utils.data.DataLoader(new Indices(n), batch, shuffle: true, seed: (int)seed);
        var (orders, _) = Passes(loader, expected.Length);
        var text = new OrdersText(
            $"torch.manual_seed({seed}); DataLoader(range({n}), batch_size={batch}, shuffle=True), 3 epochs",
            $" (DataLoader(…, shuffle: true, seed: {seed}))",
            "PyTorch's orders (Cifar10Loader)",
            "TorchSharp's DataLoader shuffles with System.Random (FisherYatesShuffler), not torch's generator, and makes new Random(seed) at every epoch; PyTorch draws a base seed and a sampler seed from torch's generator"
        );
        return OrdersCase(golden, orders, g => Cifar10Loader.DrawOrder(n, true, g), text);
    }

    /// <summary>What a case on epoch orders says: its title, TorchSharp's call, where TorchLabs' orders come from, and
    /// why TorchSharp's differ.</summary>
    sealed record OrdersText(string Case, string TorchSharpCall, string Ours, string Cause);

    /// <summary>The orders of every epoch three ways: PyTorch's (the golden's), TorchSharp's, and TorchLabs' drawn by
    /// <paramref name="ours"/> from a torch generator seeded with the golden's seed.</summary>
    static DataCase OrdersCase(Golden golden, long[][] torchSharp, Func<Generator, long[]> ours, OrdersText text)
    {
        var expected = golden.Orders;
        using var g = new Generator((ulong)golden.Seed);
        bool oursAgree = FirstDifferentIndex(expected, [.. expected.Select(_ => ours(g))]) == "";
        return new DataCase(
            text.Case,
            Epochs(expected[..2]),
            Epochs(torchSharp) + text.TorchSharpCall,
            FirstDifferentIndex(expected, torchSharp),
            Ours(oursAgree, text.Ours),
            text.Cause,
            !oursAgree
        );
    }

    /// <summary>DataLoader(shuffle=True) with no seed: PyTorch's order follows torch.manual_seed; TorchSharp's comes
    /// from an unseeded System.Random, a new order every run.</summary>
    static DataCase UnseededLoaderCase(JsonElement golden)
    {
        var (n, batch, seed, expected) = Golden.Of(golden);
        long[] Run()
        {
            using var loader = utils.data.DataLoader(new Indices(n), batch, shuffle: true);
            return Passes(loader, 1).Orders[0];
        }
        long[] first = Run(),
            second = Run();
        return new DataCase(
            $"DataLoader(range({n}), batch_size={batch}, shuffle=True), no seed given: two runs",
            $"after torch.manual_seed({seed}): {Few(expected[0])} in every run",
            $"run 1: {Few(first)}; run 2: {Few(second)}",
            FirstDifferentIndex([expected[0]], [first]),
            "Cifar10Loader always takes a torch generator",
            "with no seed TorchSharp's loader makes new System.Random(): torch.manual_seed does not reach it, so a run "
                + "cannot be repeated"
        );
    }

    /// <summary>RandomSampler(range(n), generator=torch.Generator().manual_seed(S)) over three epochs; TorchSharp has
    /// no RandomSampler, and its seeded loader's sampler is FisherYatesShuffler(n, S).</summary>
    static DataCase SamplerCase(JsonElement element)
    {
        var golden = Golden.Of(element);
        var (n, _, seed, expected) = golden;
        var shuffler = new TorchSharp.Utils.FisherYatesShuffler(n, (int)seed);
        var text = new OrdersText(
            $"RandomSampler(range({n}), generator=torch.Generator().manual_seed({seed})), 3 epochs",
            $" (no RandomSampler; FisherYatesShuffler({n}, {seed}))",
            "PyTorch's orders (Cifar10Loader.SamplerOrder: randperm on the generator)",
            "TorchSharp has no RandomSampler; a loader's sampler is any IEnumerable<long>, and torch.randperm(n, generator: g) each epoch gives PyTorch's"
        );
        return OrdersCase(
            golden,
            [.. expected.Select(_ => shuffler.ToArray())],
            g => Cifar10Loader.SamplerOrder(n, g),
            text
        );
    }

    /// <summary>drop_last=False and True: the batch sizes of one pass in order.</summary>
    static IEnumerable<DataCase> DropLastCases(JsonElement golden)
    {
        var (n, batch, _, _) = Golden.Of(golden);
        foreach (bool dropLast in new[] { false, true })
        {
            int[] expected =
            [
                .. golden
                    .GetProperty("sizes")
                    .GetProperty(dropLast ? "true" : "false")
                    .EnumerateArray()
                    .Select(v => v.GetInt32()),
            ];
            using var loader = utils.data.DataLoader(new Indices(n), batch, drop_last: dropLast);
            int[] sizes = Passes(loader, 1).Sizes[0];
            string Show(int[] s) => s.Length == 0 ? "no batch" : string.Join(", ", s);
            yield return new DataCase(
                $"DataLoader(range({n}), batch_size={batch}, drop_last={(dropLast ? "True" : "False")}): batch sizes",
                Show(expected),
                Show(sizes),
                expected.SequenceEqual(sizes) ? "" : "the batch sizes",
                "Cifar10Loader keeps the last, smaller batch (the tutorial's drop_last=False)",
                "TorchSharp's loader counts its batches differently"
            );
        }
    }
}
