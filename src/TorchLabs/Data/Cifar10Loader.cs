using System.Collections;

namespace TorchLabs.Data;

/// <summary>
/// The tutorial's <c>torch.utils.data.DataLoader(set, batch_size, shuffle, num_workers=2)</c> of PyTorch 1.13 over
/// CIFAR-10 records. Each <c>foreach</c> is one <c>iter(loader)</c> and draws from <paramref name="torchGenerator"/>
/// (the script's global generator after <c>torch.manual_seed(S)</c>) what PyTorch draws, in its order
/// (torch/utils/data/dataloader.py, sampler.py):
/// <list type="number">
/// <item>the workers' base seed, <c>torch.empty((), dtype=torch.int64).random_()</c>
/// (_BaseDataLoaderIter.__init__);</item>
/// <item>when shuffling, RandomSampler's seed, the same draw, then <c>randperm(n)</c> from a fresh generator seeded
/// with it (RandomSampler.__iter__, reached by the workers' first prefetch).</item>
/// </list>
/// The batches are consecutive slices of that order, the last one shorter (drop_last=False), moved to <paramref
/// name="device"/>. A batch's tensors are overwritten by the next batch of the same size: they serve one training step.
/// </summary>
public sealed class Cifar10Loader(
    Cifar10Batcher set,
    int batchSize,
    bool shuffle,
    Generator torchGenerator,
    Device? device = null
) : IEnumerable<(int Index, (Tensor Inputs, Tensor Labels) Data)>
{
    /// <summary>The order of the last pass begun (its first records are the script's peek).</summary>
    public long[] Order { get; private set; } = [];

    /// <summary>How many mini-batches one pass has: ⌈n / batch_size⌉.</summary>
    public int Batches => (set.Count + batchSize - 1) / batchSize;

    /// <summary>
    /// <c>torch.empty((), dtype=torch.int64).random_(generator=g)</c>: one 64-bit draw v, kept as v mod 2⁶³. TorchSharp
    /// has no <c>random_()</c> without bounds; <c>randint(−2⁶³, 2⁶³ − 1)</c> consumes the same one 64-bit draw and
    /// returns v mod (2⁶⁴ − 1) − 2⁶³, from which v comes back exactly (except v = 2⁶⁴ − 1, read as 0: one value in
    /// 2⁶⁴).
    /// </summary>
    public static long RandomInt64(Generator g)
    {
        using var t = randint(long.MinValue, long.MaxValue, [], ScalarType.Int64, generator: g);
        ulong v = unchecked((ulong)(t.item<long>() - long.MinValue));
        return (long)(v & long.MaxValue);
    }

    /// <summary>The record order of one <c>iter(loader)</c>, with PyTorch's draws from <paramref name="g"/> (see the
    /// class).</summary>
    public static long[] DrawOrder(int n, bool shuffle, Generator g)
    {
        _ = RandomInt64(g); // _base_seed, for the workers
        if (!shuffle)
            return [.. Enumerable.Range(0, n).Select(i => (long)i)];
        using var sampler = new Generator((ulong)RandomInt64(g)); // RandomSampler: seed, generator.manual_seed(seed)
        return SamplerOrder(n, sampler);
    }

    /// <summary>
    /// One epoch of PyTorch 1.13's <c>RandomSampler(data, generator=g)</c> over n records: <c>randperm(n, g)</c>, then
    /// the second randperm it draws for the remainder <c>num_samples % n</c> (empty, but drawn, so that the next epoch
    /// starts where PyTorch's does).
    /// </summary>
    public static long[] SamplerOrder(int n, Generator g)
    {
        using var perm = randperm(n, generator: g);
        using var remainder = randperm(n, generator: g);
        return perm.data<long>().ToArray();
    }

    public IEnumerator<(int Index, (Tensor Inputs, Tensor Labels) Data)> GetEnumerator()
    {
        Order = DrawOrder(set.Count, shuffle, torchGenerator);
        bool move = device is not null && device.type != DeviceType.CPU;
        for (int i = 0; i < Batches; i++)
        {
            int start = i * batchSize;
            var (x, y) = set.Batch(Order.AsSpan(start, Math.Min(batchSize, set.Count - start)));
            yield return (i, move ? (x.to(device!), y.to(device!)) : (x, y));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
