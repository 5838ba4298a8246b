using TorchLabs.Models;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Models;

/// <summary>
/// The model summary against torchinfo's numbers for the tutorial Net (62,006 parameters; multiply-adds by hand), and
/// the parameter count of every lab model against <c>parameters().Sum(numel)</c>.
/// </summary>
public class ModelSummaryTests
{
    [Fact]
    public void TutorialNet_HasTorchinfosRows_Parameters_AndMultiplyAddsByHand()
    {
        using var gen = new Generator(1);
        var s = ModelSummary.Of(new CifarNet(gen), [1, 3, 32, 32]);
        Assert.Equal(
            [
                "conv1 (Conv2d)",
                "pool (MaxPool2d)",
                "conv2 (Conv2d)",
                "pool (MaxPool2d)",
                "fc1 (Linear)",
                "fc2 (Linear)",
                "fc3 (Linear)",
            ],
            s.Layers.Select(l => $"{l.Name} ({l.Type})")
        );
        Assert.Equal(
            [
                [1, 6, 28, 28],
                [1, 6, 14, 14],
                [1, 16, 10, 10],
                [1, 16, 5, 5],
                [1, 120],
                [1, 84],
                [1, 10],
            ],
            s.Layers.Select(l => l.OutputShape)
        );
        Assert.Equal([456L, 0, 2416, 0, 48120, 10164, 850], s.Layers.Select(l => l.Parameters));
        long conv1 = 6L * 3 * 5 * 5 * 28 * 28,
            conv2 = 16L * 6 * 5 * 5 * 10 * 10,
            fc1 = 400L * 120,
            fc2 = 120L * 84,
            fc3 = 84L * 10;
        Assert.Equal([conv1, 0, conv2, 0, fc1, fc2, fc3], s.Layers.Select(l => l.MultiplyAdds));
        Assert.Equal((62_006L, 62_006L, 651_720L), (s.Parameters, s.Trainable, s.MultiplyAdds));
        Assert.Equal(62_006L * 4, s.ParameterBytes);
        Assert.Equal(4L * (4704 + 1176 + 1600 + 400 + 120 + 84 + 10), s.ForwardBytes);
        Assert.Contains("Total params: 62,006", s.ToText());
        Assert.Contains("Total mult-adds: 651,720", s.ToText());
    }

    [Fact]
    public void EveryLabModel_CountsItsParametersOnce()
    {
        using var gen = new Generator(2);
        (nn.Module<Tensor, Tensor> Model, long[] Input)[] models =
        [
            (new CifarNet(gen), [2, 3, 32, 32]),
            (new Mlp([784, 28, 10], "sigmoid", gen), [3, 784]),
            (new DeepStack(StackKind.Sigmoid, 6, 8, 3, gen), [2, 8]),
            (new DeepStack(StackKind.SigmoidResidual, 6, 8, 3, gen), [2, 8]),
        ];
        foreach (var (model, input) in models)
        {
            var s = ModelSummary.Of(model, input);
            Assert.Equal(model.parameters().Sum(p => p.numel()), s.Parameters);
            Assert.True(s.Layers.Count > 0, model.GetName());
        }
    }

    [Fact]
    public void Summary_LeavesTheModelAsItWas()
    {
        using var gen = new Generator(3);
        var net = new CifarNet(gen);
        net.train();
        var before = net.parameters().Select(p => p.detach().clone()).ToList();
        ModelSummary.Of(net, [1, 3, 32, 32]);
        Assert.True(net.training);
        Assert.All(net.parameters().Zip(before), p => Assert.Equal(0f, (p.First - p.Second).abs().max().item<float>()));
        Assert.All(net.parameters(), p => Assert.Null(p.grad));
    }
}
