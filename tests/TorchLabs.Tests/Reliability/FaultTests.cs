using System.Net;
using System.Net.Sockets;
using TorchLabs.AllLabs;
using TorchLabs.Data;
using TorchLabs.Labs;
using TorchLabs.Reporting;
using TorchLabs.Runtime;

namespace TorchLabs.Tests.Reliability;

public class FaultTests
{
    /// <summary>A loopback server that announces a length, sends part of it and closes: an interrupted
    /// download.</summary>
    sealed class CuttingServer : IDisposable
    {
        readonly TcpListener listener = new(IPAddress.Loopback, 0);
        public string Url { get; }

        public CuttingServer()
        {
            listener.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/cifar-10-binary.tar.gz";
            _ = Task.Run(async () =>
            {
                try
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    using var stream = client.GetStream();
                    var buffer = new byte[4096];
                    await stream.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false);
                    byte[] head = System.Text.Encoding.ASCII.GetBytes(
                        "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: " + "close\r\n\r\n"
                    );
                    await stream.WriteAsync(head);
                    await stream.WriteAsync(new byte[5000]);
                }
                catch (Exception) { }
            });
        }

        public void Dispose() => listener.Stop();
    }

    [Fact]
    public void InterruptedDownload_LeavesNoDatasetFolderAndNoArchive()
    {
        using var server = new CuttingServer();
        string dataDir = TestEnvironment.NewTempDir();
        var e = Assert.Throws<LabFailedException>(() => Downloader.FetchCifar10(dataDir, null, server.Url));
        Assert.Contains("cannot download", e.Message);
        Assert.Null(Cifar10.Locate(dataDir));
        Assert.Empty(Directory.GetFileSystemEntries(dataDir));
    }

    sealed class BrokenLab() : ReportLab("broken", "A lab that throws", "throws")
    {
        public override ReportSection Run(LabContext context) => throw new InvalidOperationException("injected fault");
    }

    [Fact]
    public void ReportRunner_OneLabThrows_OthersWritten_FailureShown()
    {
        string dir = TestEnvironment.NewTempDir();
        var context = new LabContext(
            dir,
            1,
            TestEnvironment.NewTempDir(),
            TorchSharp.torch.CPU,
            Threads: TestEnvironment.Threads
        );
        var outcomes = ReportRunner.Run(context, [new BrokenLab(), new PerceptronReportLab()]);
        Assert.Equal(SectionStatus.Failed, outcomes[0].Section.Status);
        Assert.Contains("injected fault", outcomes[0].Error);
        Assert.Equal(SectionStatus.Ran, outcomes[1].Section.Status);
        string html = File.ReadAllText(Path.Combine(dir, "index.html"));
        Assert.Contains("injected fault", html);
        Assert.Contains("<section id=\"perceptron\" class=\"ran\">", html);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_All_SkipsLabsWithoutData_AndSaysHowToGetIt()
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunInProcess(
            "all",
            "--out",
            dir,
            "--only",
            "cifar10",
            "perceptron",
            "--data",
            TestEnvironment.NewTempDir(),
            "--threads",
            "1"
        );
        Assert.Equal(0, r.ExitCode);
        string md = File.ReadAllText(Path.Combine(dir, "README.md"));
        Assert.Contains("(skipped)", md);
        Assert.Contains("torchlabs cifar10 --download", md);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("cifar10", "--data")]
    [InlineData("fashion-mnist", "--data")]
    public void Cli_MissingDataFolder_ExitsTwoNamingTheFolder(string lab, string option)
    {
        string missing = Path.Combine(TestEnvironment.NewTempDir(), "nowhere");
        var r = TestEnvironment.RunInProcess(lab, option, missing, "--dataset", "mnist");
        if (lab == "cifar10")
            r = TestEnvironment.RunInProcess(lab, option, missing);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("nowhere", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("fashion-mnist", "--batch-size", "0")]
    [InlineData("fashion-mnist", "--lr", "NaN")]
    [InlineData("fashion-mnist", "--lr", "-Infinity")]
    [InlineData("vanishing", "--lr", "0")]
    [InlineData("vanishing", "--depth", "0")]
    [InlineData("vector-backprop", "--lr", "Infinity")]
    [InlineData("vector-backprop", "--m", "0")]
    [InlineData("gradcheck", "--sizes", "4,x")]
    [InlineData("cifar10", "--limit-train", "0")]
    [InlineData("info", "--device", "tpu")]
    [InlineData("info", "--threads", "-2")]
    public void Cli_BadNumbers_ExitTwoWithOneLine(string lab, string option, string value)
    {
        string[] args = lab == "gradcheck" ? [lab, "mlp-l2", option, value] : [lab, option, value];
        // In process, at the tests' one thread (vector-backprop would set its default, every core, before it reads
        // --lr).
        var r = TestEnvironment.RunInProcess(option == "--threads" ? args : [.. args, "--threads", "1"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains(option, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }
}
