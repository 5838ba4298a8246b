using TorchLabs.Data;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Data;

/// <summary>Batches made from the bytes through the 256-value table equal the tutorial's transform by libtorch, bit for
/// bit.</summary>
public class Cifar10BatcherTests
{
    [Fact]
    public void Batch_EqualsNormalizeOfIndexSelect_BitForBit_AndReusesItsTensors()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(21);
        const int n = 50;
        var pixels = randint(0, 256, [n, 3, 32, 32], generator: gen).to_type(ScalarType.Byte);
        // every byte value occurs
        pixels.view(-1).narrow(0, 0, 256).copy_(arange(256, ScalarType.Int32).to_type(ScalarType.Byte));
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i * 7 % 10)).ToArray();
        using var batcher = new Cifar10Batcher(pixels, labels);
        Tensor? first = null;
        foreach (long[] indices in new long[][] { [0, 1, 2, 3], [49, 0, 17, 17], [5, 3], [8, 9, 10, 11] })
        {
            var (x, y) = batcher.Batch(indices);
            var expected = Cifar10.Normalize(pixels.index_select(0, tensor(indices)));
            Assert.Equal(expected.data<float>().ToArray(), x.data<float>().ToArray());
            Assert.Equal(indices.Select(i => (long)labels[i]).ToArray(), y.data<long>().ToArray());
            Assert.Equal([indices.Length, 3L, 32, 32], x.shape);
            if (indices.Length == 4)
            {
                first ??= x;
                Assert.Same(first, x);
            } // one tensor per batch size, refilled
        }
    }

    [Fact]
    public void Constructor_RejectsPixelsThatAreNotUint8Records()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => new Cifar10Batcher(zeros([2, 3, 32, 32]), [0, 1]));
        Assert.Throws<ArgumentException>(() => new Cifar10Batcher(zeros([2, 3, 32, 32], ScalarType.Byte), [0]));
    }
}
