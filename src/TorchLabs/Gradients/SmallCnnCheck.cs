using TorchLabs.Models;

namespace TorchLabs.Gradients;

/// <summary>Shape of a small-CNN case.</summary>
public sealed record SmallCnnShape(
    int Cin = 2,
    int Height = 8,
    int Width = 8,
    int Cout = 3,
    int Kernel = 3,
    int Pool = 2,
    int Classes = 4
);

/// <summary>Notes 003 eqs. 29-51 checked, with the notes' untied bias and with PyTorch's tied bias.</summary>
public static class SmallCnnCheck
{
    public static NetworkCheckResult Run(SmallCnnShape shape, bool tiedBias, long seed)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        var net = new SmallCnn(
            shape.Cin,
            shape.Height,
            shape.Width,
            shape.Cout,
            shape.Kernel,
            shape.Pool,
            shape.Classes,
            tiedBias,
            gen
        );
        var x = randn([shape.Cin, shape.Height, shape.Width], ScalarType.Float64, generator: gen);
        var y = zeros(shape.Classes, ScalarType.Float64);
        y[(int)(seed % shape.Classes)] = 1.0;
        var W1 = HandVsAutograd.Leaf(net.W1);
        var b1 = HandVsAutograd.Leaf(net.b1);
        var W2 = HandVsAutograd.Leaf(net.W2);
        var b2 = HandVsAutograd.Leaf(net.b2);
        int pool = shape.Pool;

        Tensor LossOf(SmallCnnTrace t) => DropoutConcatNet.Loss(t.YHat, y);
        Tensor FromH2(Tensor h2) => DropoutConcatNet.Loss(nn.functional.softmax(h2, 0), y);
        Tensor FromU2(Tensor u2, Tensor w2, Tensor bb2) => FromH2(matmul(w2.t(), u2) + bb2);
        Tensor Full(Tensor w1, Tensor bb1, Tensor w2, Tensor bb2) =>
            LossOf(SmallCnn.Trace(x, w1, bb1, w2, bb2, pool, tiedBias));

        var t = SmallCnn.Trace(x, W1, b1, W2, b2, pool, tiedBias);
        foreach (var v in new[] { t.U1, t.H1, t.A1, t.U2, t.H2 })
            v.retain_grad();
        var loss = LossOf(t);
        loss.backward();
        var d = new SmallCnnTrace(
            x,
            t.U1.detach(),
            t.H1.detach(),
            t.A1.detach(),
            t.U2.detach(),
            t.H2.detach(),
            t.YHat.detach()
        );
        var g = SmallCnnGradients.Compute(d, W2.detach(), y, pool, tiedBias);

        // Central differences are not taken through a ReLU input or a max-pool tie within 2h.
        bool kink =
            d.H1.abs().min().item<double>() < 2 * HandVsAutograd.Step || PoolGap(d.U1, pool) < 2 * HandVsAutograd.Step;
        string? note = kink
            ? "a ReLU input or a max-pool tie lies within 2h, where central differences straddle the kink"
            : null;
        var u2 = d.U2;
        var entries = new List<GradEntry>
        {
            HandVsAutograd.Entry("dL/dh2", g.dH2, t.H2.grad!, t.H2, FromH2),
            HandVsAutograd.Entry("dL/dW2", g.dW2, W2.grad!, W2, v => FromU2(u2, v, b2)),
            HandVsAutograd.Entry("dL/db2", g.db2, b2.grad!, b2, v => FromU2(u2, W2, v)),
            HandVsAutograd.Entry("dL/du2", g.dU2, t.U2.grad!, t.U2, v => FromU2(v, W2, b2)),
            HandVsAutograd.Entry("dL/da1", g.dA1, t.A1.grad!, t.A1, v => FromU2(v.flatten(), W2, b2)),
            HandVsAutograd.Entry(
                "dL/dh1",
                g.dH1,
                t.H1.grad!,
                t.H1,
                v => FromU2(nn.functional.relu(v).flatten(), W2, b2),
                note
            ),
            HandVsAutograd.Entry(
                "dL/du1",
                g.dU1,
                t.U1.grad!,
                t.U1,
                v => FromU2(nn.functional.relu(nn.functional.max_pool2d(v.unsqueeze(0), pool)[0]).flatten(), W2, b2),
                note
            ),
            HandVsAutograd.Entry("dL/db1", g.db1, b1.grad!, b1, v => Full(W1, v, W2, b2), note),
            HandVsAutograd.Entry("dL/dW1", g.dW1, W1.grad!, W1, v => Full(v, b1, W2, b2), note),
        };
        var notes = new List<string>
        {
            $"x is {shape.Cin}×{shape.Height}×{shape.Width}, Conv2d({shape.Cin}, {shape.Cout}, {shape.Kernel}), MaxPool2d({shape.Pool}), {shape.Classes} classes; b₁ "
                + (
                    tiedBias
                        ? $"tied, one per channel ({shape.Cout})"
                        : $"untied, one per output position ({string.Join("×", net.b1.shape)})"
                )
                + $"; flatten size d = {net.W2.shape[0]} (the product C_out·H_mp·W_mp; eq. 37's sum would give {shape.Cout + (shape.Height - shape.Kernel + 1) / shape.Pool + (shape.Width - shape.Kernel + 1) / shape.Pool}).",
        };
        if (note is not null)
            notes.Add($"Central differences skipped for dL/dh1, dL/du1, dL/db1, dL/dW1: {note}.");
        return new NetworkCheckResult(
            tiedBias ? "small-cnn (tied bias)" : "small-cnn (untied bias)",
            loss.item<double>(),
            entries,
            notes
        );
    }

    /// <summary>The smallest gap between the largest and second-largest value of any pooling window.</summary>
    static double PoolGap(Tensor u1, int n)
    {
        var windows = u1.unsqueeze(0).unfold(2, n, n).unfold(3, n, n).reshape(-1, n * n);
        var top = windows.topk(2, 1).values;
        return (top[.., 0] - top[.., 1]).min().item<double>();
    }
}
