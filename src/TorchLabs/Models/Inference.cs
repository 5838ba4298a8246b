namespace TorchLabs.Models;

/// <summary>Evaluation of a trained classifier.</summary>
public static class Inference
{
    /// <summary>Softmax probabilities of <paramref name="count"/> examples in batches of <paramref name="batch"/>,
    /// without gradients (eval mode).</summary>
    public static float[][] Probabilities(
        nn.Module<Tensor, Tensor> net,
        Func<int, int, Tensor> inputs,
        int count,
        int batch
    )
    {
        net.eval();
        var probabilities = new float[count][];
        using var _ = no_grad();
        for (int start = 0; start < count; start += batch)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batch, count - start);
            var p = nn.functional.softmax(net.call(inputs(start, n)), 1).cpu();
            float[] flat = p.data<float>().ToArray();
            int classes = (int)p.shape[1];
            for (int i = 0; i < n; i++)
                probabilities[start + i] = flat.AsSpan(i * classes, classes).ToArray();
        }
        return probabilities;
    }
}
