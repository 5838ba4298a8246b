using System.Globalization;
using System.Text;

namespace TorchLabs.Models;

/// <summary>One layer call of a model summary: the module's name and type, its output shape, its own parameters, its
/// multiply-adds for that call.</summary>
public sealed record LayerSummary(
    string Name,
    string Type,
    long[] OutputShape,
    long Parameters,
    long Trainable,
    long MultiplyAdds
);

/// <summary>
/// torchinfo's <c>summary(model, input_size)</c> for a TorchSharp module: one row per call of a leaf module (a layer
/// used twice, as the tutorial Net's pool, has two rows), then the totals: parameters (trainable and frozen, each
/// counted once), multiply-adds of one forward pass, and the memory of the parameters and of the layers' outputs.
/// </summary>
public sealed record ModelSummary(
    long[] InputShape,
    IReadOnlyList<LayerSummary> Layers,
    long Parameters,
    long Trainable,
    long MultiplyAdds,
    long ParameterBytes,
    long ForwardBytes
)
{
    /// <summary>The summary as JSON-ready values: <c>layers</c> (name, type, outputShape, parameters, trainable,
    /// multiplyAdds) and <c>totals</c>.</summary>
    public object ToJson() =>
        new
        {
            inputShape = InputShape,
            layers = Layers,
            totals = new
            {
                parameters = Parameters,
                trainable = Trainable,
                frozen = Parameters - Trainable,
                multiplyAdds = MultiplyAdds,
                parameterBytes = ParameterBytes,
                forwardBytes = ForwardBytes,
            },
        };

    /// <summary>The table as text, in torchinfo's layout.</summary>
    public string ToText()
    {
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        static string Shape(long[] s) => "[" + string.Join(", ", s) + "]";
        var rows = Layers
            .Select(l =>
                (Layer: $"{l.Name} ({l.Type})", Shape: Shape(l.OutputShape), P: N(l.Parameters), M: N(l.MultiplyAdds))
            )
            .ToList();
        int a = Math.Max(12, rows.Select(r => r.Layer.Length).DefaultIfEmpty(0).Max()),
            b = Math.Max(12, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        string rule = new('=', a + b + 28);
        sb.AppendLine(rule)
            .AppendLine(
                $"{"Layer (type)".PadRight(a)}  {"Output Shape".PadRight(b)}  {"Param #", 10}  {"Mult-Adds", 12}"
            )
            .AppendLine(rule);
        foreach (var r in rows)
            sb.AppendLine($"{r.Layer.PadRight(a)}  {r.Shape.PadRight(b)}  {r.P, 10}  {r.M, 12}");
        sb.AppendLine(rule)
            .AppendLine($"Total params: {N(Parameters)}")
            .AppendLine($"Trainable params: {N(Trainable)}")
            .AppendLine($"Non-trainable params: {N(Parameters - Trainable)}")
            .AppendLine($"Total mult-adds: {N(MultiplyAdds)}")
            .AppendLine($"Input shape: {Shape(InputShape)}")
            .AppendLine($"Params size (MB): {ParameterBytes / 1e6:F2}")
            .AppendLine($"Forward pass size (MB): {ForwardBytes / 1e6:F2}")
            .Append(rule);
        return sb.ToString();
    }

    /// <summary>
    /// Runs one forward pass of zeros of <paramref name="inputShape"/> (no gradients, eval mode, restored after) with a
    /// forward hook on every leaf module, and collects the summary. Multiply-adds: a convolution's output elements ×
    /// (in channels / groups × kernel size), a linear layer's output elements × its in features; other layers none (as
    /// torchinfo counts them).
    /// </summary>
    public static ModelSummary Of(
        nn.Module<Tensor, Tensor> model,
        long[] inputShape,
        ScalarType dtype = ScalarType.Float32
    )
    {
        var layers = new List<LayerSummary>();
        var hooks = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module.children().Any() || module is not nn.Module<Tensor, Tensor> leaf)
                continue;
            var handle = leaf.register_forward_hook(
                (m, input, output) =>
                {
                    var own = m.parameters(recurse: false).ToList();
                    layers.Add(
                        new LayerSummary(
                            name,
                            m.GetType().Name,
                            output.shape,
                            own.Sum(p => p.numel()),
                            own.Where(p => p.requires_grad).Sum(p => p.numel()),
                            CountMultiplyAdds(m, output)
                        )
                    );
                    return output; // the output unchanged
                }
            );
            hooks.Add(handle.remove);
        }
        bool training = model.training;
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.eval();
            // One example goes through, and every layer's output and work are scaled to the batch: the layers act per
            // example, and a forward pass of the whole batch (20,000 CIFAR images: 1.7 GB) would only cost memory.
            model.call(zeros([1, .. inputShape[1..]], dtype));
        }
        finally
        {
            foreach (var remove in hooks)
                remove();
            model.train(training);
        }
        long batch = inputShape.Length > 0 ? inputShape[0] : 1;
        layers =
        [
            .. layers.Select(l =>
                l with
                {
                    OutputShape = l.OutputShape.Length > 0 ? [batch, .. l.OutputShape[1..]] : l.OutputShape,
                    MultiplyAdds = l.MultiplyAdds * batch,
                }
            ),
        ];
        var parameters = model.parameters().ToList();
        long elementBytes = dtype is ScalarType.Float64 ? 8 : 4;
        long total = parameters.Sum(p => p.numel()),
            trainable = parameters.Where(p => p.requires_grad).Sum(p => p.numel());
        long parameterBytes = parameters.Sum(p => p.numel() * p.ElementSize);
        long forwardBytes = layers.Sum(l => l.OutputShape.Aggregate(1L, (x, y) => x * y) * elementBytes);
        return new ModelSummary(
            inputShape,
            layers,
            total,
            trainable,
            layers.Sum(l => l.MultiplyAdds),
            parameterBytes,
            forwardBytes
        );
    }

    /// <summary>Multiply-adds of one call: conv = out elements × (C_in / groups × kernel elements); linear = out
    /// elements × in features.</summary>
    static long CountMultiplyAdds(nn.Module layer, Tensor output) =>
        layer switch
        {
            TorchSharp.Modules.Linear l => output.numel() * l.weight!.shape[1],
            TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Conv3d => output.numel()
                * layer.parameters(recurse: false).First().numel()
                / layer.parameters(recurse: false).First().shape[0],
            _ => 0,
        };
}
