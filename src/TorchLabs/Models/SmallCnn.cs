using TorchSharp.Modules;

namespace TorchLabs.Models;

/// <summary>The intermediate values of one forward pass of <see cref="SmallCnn"/> (notes 003 eqs. 29-34).</summary>
public sealed record SmallCnnTrace(Tensor X, Tensor U1, Tensor H1, Tensor A1, Tensor U2, Tensor H2, Tensor YHat);

/// <summary>
/// Notes 003 eqs. 29-34: u₁ = Conv2d(C_in, C_out, k)(x) (29), h₁ = MaxPool2d(N)(u₁) (30), a₁ = ReLU(h₁) (31),
/// u₂ = Flatten(a₁) (32), h₂ = W₂ᵀu₂ + b₂ (33), ŷ = Softmax(h₂) (34), L = −yᵀ log ŷ. One image x [C_in, H, W].
/// The convolution's bias is either the notes' untied b₁ ∈ R^{C_out × H_out × W_out} (eq. 49) or PyTorch's tied
/// b₁ ∈ R^{C_out}, one per channel. Flatten has d = C_out · H_mp · W_mp outputs (eq. 37 writes a sum: a slip).
/// </summary>
public sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
    public Parameter W1 { get; }
    public Parameter b1 { get; }
    public Parameter W2 { get; }
    public Parameter b2 { get; }
    public int PoolSize { get; }
    public bool TiedBias { get; }

    public SmallCnn(
        int cin,
        int height,
        int width,
        int cout,
        int kernel,
        int pool,
        int classes,
        bool tiedBias,
        Generator generator,
        ScalarType dtype = ScalarType.Float64
    )
        : base(nameof(SmallCnn))
    {
        int hout = height - kernel + 1,
            wout = width - kernel + 1; // (35)
        int hmp = hout / pool,
            wmp = wout / pool; // (36)
        if (hout < 1 || wout < 1 || hmp < 1 || wmp < 1)
            throw new ArgumentException("image too small for the kernel and pool sizes");
        int d = cout * hmp * wmp; // (37), corrected: a product
        PoolSize = pool;
        TiedBias = tiedBias;
        W1 = new Parameter(empty([cout, cin, kernel, kernel], dtype));
        b1 = new Parameter(tiedBias ? empty([cout], dtype) : empty([cout, hout, wout], dtype));
        W2 = new Parameter(empty([d, classes], dtype));
        b2 = new Parameter(empty([classes], dtype));
        using (no_grad())
        {
            double bc = 1 / Math.Sqrt(cin * kernel * kernel),
                bl = 1 / Math.Sqrt(d);
            W1.uniform_(-bc, bc, generator);
            b1.uniform_(-bc, bc, generator);
            W2.uniform_(-bl, bl, generator);
            b2.uniform_(-bl, bl, generator);
        }
        RegisterComponents();
    }

    /// <summary>u₁ = W₁ ⋆ x + b₁ (eq. 48), with the bias broadcast per channel when tied.</summary>
    public static Tensor Conv(Tensor x, Tensor w1, Tensor bias, bool tied) =>
        nn.functional.conv2d(x.unsqueeze(0), w1)[0] + (tied ? bias.view(-1, 1, 1) : bias);

    public SmallCnnTrace Trace(Tensor x) => Trace(x, W1, b1, W2, b2, PoolSize, TiedBias);

    public static SmallCnnTrace Trace(Tensor x, Tensor w1, Tensor bias1, Tensor w2, Tensor bias2, int pool, bool tied)
    {
        var u1 = Conv(x, w1, bias1, tied); // (29)
        var h1 = nn.functional.max_pool2d(u1.unsqueeze(0), pool)[0]; // (30)
        var a1 = nn.functional.relu(h1); // (31)
        var u2 = a1.flatten(); // (32)
        var h2 = matmul(w2.t(), u2) + bias2; // (33)
        var yhat = nn.functional.softmax(h2, 0); // (34)
        return new SmallCnnTrace(x, u1, h1, a1, u2, h2, yhat);
    }

    public override Tensor forward(Tensor x) => Trace(x).YHat;
}
