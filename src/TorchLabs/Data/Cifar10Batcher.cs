namespace TorchLabs.Data;

/// <summary>
/// Training batches made straight from the stored bytes into reused tensors, with no libtorch call per batch: the
/// tutorial's ToTensor + Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), x = (p/255 − 0.5)/0.5, is a function of one byte,
/// so its 256 values are computed once by <see cref="Cifar10.Normalize"/> itself (the same float32 numbers, bit for
/// bit) and looked up; the labels are written as int64. The returned tensors are overwritten by the next call with the
/// same batch size: they are meant for one training step (autograd's saved input is used by that step's backward,
/// before the next batch is made).
/// </summary>
public sealed class Cifar10Batcher : IDisposable
{
    readonly Tensor pixels;
    readonly byte[] labels;
    readonly float[] table;
    readonly Dictionary<int, (Tensor X, Tensor Y)> buffers = [];

    /// <param name="pixels">uint8 [N, 3, 32, 32] on the CPU, contiguous (<see cref="Cifar10.LoadTensor"/>).</param>
    public Cifar10Batcher(Tensor pixels, byte[] labels)
    {
        if (
            pixels.dtype != ScalarType.Byte
            || !pixels.is_contiguous()
            || pixels.shape[0] != labels.Length
            || pixels.numel() != (long)labels.Length * Cifar10.RecordPixels
        )
            throw new ArgumentException("expected contiguous uint8 pixels [N, 3, 32, 32] and N labels");
        this.pixels = pixels;
        this.labels = labels;
        using var scope = NewDisposeScope();
        table = Cifar10.Normalize(arange(256, ScalarType.Int32).to_type(ScalarType.Byte)).data<float>().ToArray();
    }

    /// <summary>How many records the set holds.</summary>
    public int Count => labels.Length;

    /// <summary>The images and labels of records <paramref name="indices"/>, as [n, 3, 32, 32] float32 and [n]
    /// int64.</summary>
    public (Tensor X, Tensor Y) Batch(ReadOnlySpan<long> indices)
    {
        int n = indices.Length;
        if (!buffers.TryGetValue(n, out var b))
        {
            b = (empty([n, 3, 32, 32]).DetachFromDisposeScope(), empty([n], ScalarType.Int64).DetachFromDisposeScope());
            buffers[n] = b;
        }
        var source = pixels.bytes;
        var x = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(b.X.bytes);
        var y = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(b.Y.bytes);
        for (int i = 0; i < n; i++)
        {
            long k = indices[i];
            var record = source.Slice(checked((int)(k * Cifar10.RecordPixels)), Cifar10.RecordPixels);
            var into = x.Slice(i * Cifar10.RecordPixels, Cifar10.RecordPixels);
            for (int j = 0; j < record.Length; j++)
                into[j] = table[record[j]];
            y[i] = labels[k];
        }
        return b;
    }

    public void Dispose()
    {
        foreach (var (x, y) in buffers.Values)
        {
            x.Dispose();
            y.Dispose();
        }
        buffers.Clear();
    }
}
