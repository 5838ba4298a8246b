using TorchLabs.Models;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Models;

public class CifarNetTests
{
    [Fact]
    public void Forward_BatchOfImages_GivesTenLogitsEach()
    {
        using var gen = new Generator(1);
        var net = new CifarNet(gen);
        using var x = randn([5, 3, 32, 32], generator: gen);
        using var y = net.call(x);
        Assert.Equal([5L, 10], y.shape);
    }

    [Fact]
    public void Parameters_CountIsTheTutorials62006()
    {
        var net = new CifarNet(new Generator(1));
        Assert.Equal(CifarNet.ParameterCount, net.parameters().Sum(p => p.numel()));
        // conv1 3*6*25+6, conv2 6*16*25+16, fc1 400*120+120, fc2 120*84+84, fc3 84*10+10
        Assert.Equal(456 + 2416 + 48120 + 10164 + 850, CifarNet.ParameterCount);
    }

    [Fact]
    public void Init_SameSeed_SameWeights_WithinPyTorchDefaultBounds()
    {
        var a = new CifarNet(new Generator(7));
        var b = new CifarNet(new Generator(7));
        foreach (var (pa, pb) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(pa.parameter.equal(pb.parameter).all().item<bool>(), pa.name);
        var fc1 = a.named_parameters().Single(p => p.name == "fc1.weight").parameter;
        Assert.True(fc1.abs().max().item<float>() <= 1 / Math.Sqrt(400) + 1e-7);
        Assert.True(fc1.abs().max().item<float>() > 0.9 / Math.Sqrt(400)); // spread over the whole range
    }

    [Fact]
    public void TrainingStep_FixedBatch_LowersLoss()
    {
        using var gen = new Generator(3);
        var net = new CifarNet(gen);
        using var x = randn([8, 3, 32, 32], generator: gen);
        using var y = tensor(new long[] { 0, 1, 2, 3, 4, 5, 6, 7 });
        var opt = optim.SGD(net.parameters(), 0.01, 0.9);
        double first = 0,
            last = 0;
        for (int step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(net.call(x), y);
            loss.backward();
            opt.step();
            if (step == 0)
                first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first - 0.1, $"loss {first} -> {last}");
    }

    [Fact]
    public void SaveThenLoad_GivesIdenticalOutputs()
    {
        using var gen = new Generator(11);
        var net = new CifarNet(gen);
        string path = Path.Combine(TestEnvironment.NewTempDir(), "cifar_net.dat");
        net.save(path);
        var loaded = new CifarNet(new Generator(999));
        loaded.load(path);
        using var x = randn([3, 3, 32, 32], generator: gen);
        using var y1 = net.call(x);
        using var y2 = loaded.call(x);
        Assert.True(y1.equal(y2).all().item<bool>());
    }
}
