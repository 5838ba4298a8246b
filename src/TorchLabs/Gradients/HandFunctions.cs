using System.Text.Json.Serialization;
using TorchLabs.Fast;
using TorchLabs.Functions;
using TorchLabs.Models;

namespace TorchLabs.Gradients;

/// <summary>One hand-backward Function at a point: the Function, libtorch's composition of the same forward, and how to
/// draw inputs.</summary>
public sealed record HandFunctionCase(
    string Name,
    string Source,
    Func<Tensor[], Tensor[]> Hand,
    Func<Tensor[], Tensor[]> Autograd,
    Func<Generator, Tensor[]> Inputs
);

/// <summary>A hand Function's verdicts: gradcheck, gradgradcheck, and the largest difference from autograd's
/// Jacobian; the JSON names are those `torchlabs gradcheck functions --format json` has always printed.</summary>
public sealed record HandFunctionCheck(
    string Name,
    string Source,
    [property: JsonPropertyName("gradcheckMaxAbsError")] double GradCheckMaxAbsError,
    [property: JsonPropertyName("gradcheck")] bool GradCheckPass,
    [property: JsonPropertyName("gradgradcheckMaxAbsError")] double GradGradMaxAbsError,
    [property: JsonPropertyName("gradgradcheck")] bool GradGradPass,
    [property: JsonPropertyName("maxAbsErrorVsAutograd")] double MaxAbsVsAutograd,
    string? Failure
)
{
    /// <summary>Hand against autograd's Jacobian: an exact re-computation, so 1e-12 absolute in float64.</summary>
    public const double AutogradTolerance = 1e-12;
    public bool Pass => GradCheckPass && GradGradPass && MaxAbsVsAutograd <= AutogradTolerance;
}

/// <summary>The notes' hand derivations as custom autograd Functions, each with its libtorch twin (`torchlabs gradcheck
/// functions`).</summary>
public static class HandFunctions
{
    static Tensor Leaf(Generator gen, params long[] shape) =>
        randn(shape, ScalarType.Float64, generator: gen).requires_grad_(true);

    static readonly Tensor Labels = tensor(new long[] { 2, 0, 3 });

    public static readonly HandFunctionCase[] Cases =
    [
        new(
            "softmax cross-entropy (soft targets)",
            "003 eq. 15",
            v => [SoftmaxCrossEntropyFunction.Apply(v[0], v[1])],
            v => [-(v[1] * v[0].log_softmax(-1)).sum() / v[0].shape[0]],
            g => [Leaf(g, 3, 4), rand([3, 4], ScalarType.Float64, generator: g).softmax(-1).requires_grad_(true)]
        ),
        new(
            "softmax cross-entropy (labels)",
            "003 eq. 15",
            v => [SoftmaxCrossEntropyFunction.ApplyLabels(v[0], Labels)],
            v => [nn.functional.cross_entropy(v[0], Labels)],
            g => [Leaf(g, 3, 4)]
        ),
        .. Activations
            .All.Select(a => a.Name)
            .Append("identity")
            .Select(name => new HandFunctionCase(
                $"MLP layer ({name})",
                "002 / Q1 delta recursion",
                v => [LinearActivationFunction.Apply(v[0], v[1], v[2], name)],
                v => [Activations.Find(name).Torch(nn.functional.linear(v[0], v[1], v[2]))],
                g => [Leaf(g, 3, 4), Leaf(g, 5, 4), Leaf(g, 5)]
            )),
        new(
            "MLP layer (one sample)",
            "002 / Q1 delta recursion",
            v => [LinearActivationFunction.Apply(v[0], v[1], v[2], "sigmoid")],
            v => [(matmul(v[1], v[0]) + v[2]).sigmoid()],
            g => [Leaf(g, 4), Leaf(g, 5, 4), Leaf(g, 5)]
        ),
        new(
            "dropout-concat layer",
            "003 eqs. 21-28",
            v => [DropoutConcatFunction.Apply(v[0], v[1], v[2], v[3])],
            v =>
                [
                    DropoutConcatNet
                        .Trace(
                            v[0],
                            v[3],
                            v[1],
                            v[2],
                            eye(9, 2, dtype: ScalarType.Float64),
                            zeros(2, ScalarType.Float64)
                        )
                        .A2,
                ],
            g =>
                [
                    Leaf(g, 4),
                    Leaf(g, 4, 5),
                    Leaf(g, 5),
                    bernoulli(full([9], 0.7, ScalarType.Float64), g).requires_grad_(true),
                ]
        ),
        new(
            "small-CNN convolution, untied bias",
            "003 eqs. 48-51",
            v => [ConvBiasFunction.Apply(v[0], v[1], v[2])],
            v => [SmallCnn.Conv(v[0], v[1], v[2], false)],
            g => [Leaf(g, 2, 6, 6), Leaf(g, 3, 2, 3, 3), Leaf(g, 3, 4, 4)]
        ),
        new(
            "small-CNN convolution, tied bias",
            "003 eqs. 48-51",
            v => [ConvBiasFunction.Apply(v[0], v[1], v[2])],
            v => [SmallCnn.Conv(v[0], v[1], v[2], true)],
            g => [Leaf(g, 2, 6, 6), Leaf(g, 3, 2, 3, 3), Leaf(g, 3)]
        ),
        new(
            "max-pool 2x2 then ReLU (the tutorial Net's)",
            "003 eqs. 30-31, 44, 46",
            v => [ReluMaxPoolFunction.Apply(v[0])],
            v => [ReluMaxPoolFunction.Reference(v[0])],
            g => [Leaf(g, 2, 3, 6, 7)]
        ),
        new(
            "fully connected head with its loss (the tutorial Net's)",
            "003 eqs. 15, 18-20",
            v => [ClassifierHeadFunction.Apply(v[0], v[1], v[2], v[3], v[4], v[5], v[6], Labels)],
            v => [ClassifierHeadFunction.Reference(v[0], v[1], v[2], v[3], v[4], v[5], v[6], Labels)],
            g => [Leaf(g, 3, 6), Leaf(g, 5, 6), Leaf(g, 5), Leaf(g, 4, 5), Leaf(g, 4), Leaf(g, 4, 4), Leaf(g, 4)]
        ),
    ];

    /// <summary>Every case at inputs drawn from <paramref name="seed"/>: GradCheck, GradGradCheck, and hand against
    /// autograd.</summary>
    public static IReadOnlyList<HandFunctionCheck> Run(long seed) =>
        Cases.Select((c, i) => Check(c, (ulong)(seed * 1000 + i))).ToList();

    public static HandFunctionCheck Check(HandFunctionCase c, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(seed);
        var inputs = c.Inputs(gen);
        var first = GradCheck.Check(c.Hand, inputs);
        var second = GradCheck.GradGradCheck(c.Hand, inputs, options: new GradCheckOptions { Seed = (long)seed });
        var hand = AutogradFunctional.Jacobian(c.Hand, inputs);
        var auto = AutogradFunctional.Jacobian(c.Autograd, inputs);
        double vsAutograd = GradCheck.MaxAbs(
            GradCheck.Values(c.Hand(inputs)[0]),
            GradCheck.Values(c.Autograd(inputs)[0])
        );
        for (int j = 0; j < inputs.Length; j++)
            vsAutograd = Math.Max(
                vsAutograd,
                GradCheck.MaxAbs(GradCheck.Values(hand[0, j]), GradCheck.Values(auto[0, j]))
            );
        string? failure = first.Pass
            ? second.Pass
                ? null
                : "gradgradcheck: " + second.Failures[0].Split('\n')[0]
            : "gradcheck: " + first.Failures[0].Split('\n')[0];
        return new HandFunctionCheck(
            c.Name,
            c.Source,
            first.MaxAbsError,
            first.Pass,
            second.MaxAbsError,
            second.Pass,
            vsAutograd,
            failure
        );
    }
}
