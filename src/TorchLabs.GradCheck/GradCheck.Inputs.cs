namespace TorchLabs.Gradients;

public static partial class GradCheck
{
    /// <summary>The alignment libtorch's kernels assume for a complex128 element (c10::complex&lt;double&gt; is
    /// alignas(16)).</summary>
    const long ComplexDoubleAlignment = 16;

    /// <summary>
    /// Runs <paramref name="check"/> on inputs whose memory libtorch can use. TorchSharp's
    /// <c>torch.tensor(Complex[])</c> does not copy: the tensor lives in the pinned .NET array, whose elements are only
    /// 8-byte aligned, while libtorch's vectorised complex128 kernels load them as 16-byte-aligned pairs; on such
    /// memory <c>z * z</c> ends the process with a segmentation fault, depending on where the array happened to land. A
    /// misaligned input is checked on an aligned copy (the same values, strides and requires_grad), with a warning; the
    /// caller's tensor is left as it is.
    /// </summary>
    static T OnAlignedInputs<T>(Tensor[] inputs, Func<Tensor[], List<string>, T> check)
    {
        var warnings = new List<string>();
        var copies = new List<Tensor>();
        var xs = new Tensor[inputs.Length];
        for (int j = 0; j < inputs.Length; j++)
        {
            xs[j] = inputs[j];
            if (inputs[j] is null || !Misaligned(inputs[j]))
                continue;
            xs[j] = AlignedCopy(inputs[j]);
            copies.Add(xs[j]);
            warnings.Add(
                $"Input #{j} is complex128 in memory aligned to 8 bytes, not 16 (torch.tensor(Complex[]) keeps the .NET array as the tensor's memory); libtorch's complex kernels can crash on it, so it was checked on an aligned copy. Make such tensors with .clone() before using them."
            );
        }
        try
        {
            return check(xs, warnings);
        }
        finally
        {
            foreach (var c in copies)
                c.Dispose();
        }
    }

    /// <summary>True for a complex128 CPU tensor whose storage does not start on a 16-byte boundary.</summary>
    static bool Misaligned(Tensor x)
    {
        if (x.dtype != ScalarType.ComplexFloat64 || x.device_type != DeviceType.CPU || x.numel() == 0)
            return false;
        using var scope = NewDisposeScope();
        long address = x.storage<System.Numerics.Complex>().data_ptr().ToInt64();
        return address % ComplexDoubleAlignment != 0;
    }

    /// <summary>A leaf with <paramref name="x"/>'s values, shape, strides and requires_grad, in memory libtorch
    /// allocated; the values are copied as float64 pairs (view_as_real), which need only the 8-byte alignment the
    /// source has.</summary>
    static Tensor AlignedCopy(Tensor x)
    {
        using var _ = no_grad();
        var copy = empty_strided(x.shape, x.stride(), x.dtype, x.device);
        using (var scope = NewDisposeScope())
            copy.view_as_real().copy_(x.detach().view_as_real());
        return copy.requires_grad_(x.requires_grad);
    }
}
