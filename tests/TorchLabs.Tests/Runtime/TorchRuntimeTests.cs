using TorchLabs.Runtime;
using TorchSharp;

namespace TorchLabs.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_OnesSum_IsTwo()
    {
        using var s = torch.ones(2).sum();
        Assert.Equal(2.0f, s.item<float>());
    }

    [Fact]
    public void Describe_ReportsLibtorch210AndCpuBackend()
    {
        var info = TorchRuntime.Describe();
        Assert.Equal("2.10.0", info.Libtorch);
        Assert.Equal("0.107.0", info.TorchSharp);
        Assert.Equal("cpu", info.Backend);
        Assert.Equal(TestEnvironment.Threads, info.Threads);
    }

    [SkippableTheory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    public void ResolveDevice_CudaWithoutCuda_ExplainsHowToGetACudaBuild(string device)
    {
        Skip.If(torch.cuda.is_available(), "a CUDA machine resolves the device: nothing to reject");
        var e = Assert.Throws<UsageException>(() => TorchRuntime.ResolveDevice(device));
        Assert.Contains("-p:TorchBackend=cuda", e.Message);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void ResolveDevice_UnknownName_IsUsageError(string device)
    {
        var e = Assert.Throws<UsageException>(() => TorchRuntime.ResolveDevice(device));
        Assert.StartsWith("--device", TestEnvironment.AsShown(e));
    }

    [Fact]
    public void ResolveDevice_Cpu_IsCpu() => Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("cpu").type);

    [Fact]
    public void SetThreads_Negative_IsUsageError() => Assert.Throws<UsageException>(() => TorchRuntime.SetThreads(-3));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(31, 1)]
    public void ThreadsForBatch_SmallBatches_UseOneThread(int batch, int expected) =>
        Assert.Equal(expected, TorchRuntime.ThreadsForBatch(batch));

    [Fact]
    public void ThreadsForBatch_LargeBatches_UseEveryCore()
    {
        Assert.Equal(Environment.ProcessorCount, TorchRuntime.ThreadsForBatch(TorchRuntime.SmallBatch));
        Assert.Equal(Environment.ProcessorCount, TorchRuntime.ThreadsForBatch(256));
    }

    [Fact]
    public void SetThreads_AboveFourTimesTheCores_IsUsageErrorNamingTheOption()
    {
        var e = Assert.Throws<UsageException>(() => TorchRuntime.SetThreads(100_000));
        Assert.StartsWith("--threads 100000: expected at most", TestEnvironment.AsShown(e));
    }

    [Fact]
    public void SetThreads_NotGiven_UsesTheCommandsDefault() =>
        Assert.Equal(TestEnvironment.Threads, TorchRuntime.SetThreads(null, TestEnvironment.Threads));

    [Fact]
    public void MatmulThroughput_MeasuresFinitePositiveRates()
    {
        var points = TorchLabs.Labs.InfoLab.MatmulThroughput(TorchSharp.torch.CPU, [32, 64]);
        Assert.All(points, p =>
            Assert.True(
                p.Seconds > 0 && double.IsFinite(p.Gflops) && p.Gflops > 0,
                $"n {p.N}: {p.Seconds} s, {p.Gflops} GFLOP/s"
            )
        );
    }
}
