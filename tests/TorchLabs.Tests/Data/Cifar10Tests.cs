using System.Formats.Tar;
using System.IO.Compression;
using TorchLabs.Data;
using TorchLabs.Runtime;

namespace TorchLabs.Tests.Data;

public class Cifar10Tests
{
    [Fact]
    public void ReadBatch_RoundTrip_KeepsLabelsPlaneOrderAndPixels()
    {
        string dir = TestEnvironment.NewTempDir();
        var labels = new byte[] { 3, 9 };
        var pixels = new byte[2 * Cifar10.RecordPixels];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(i * 7 % 251);
        string path = Path.Combine(dir, "data_batch_1.bin");
        SyntheticCifar.WriteBatch(path, labels, pixels);

        Assert.Equal(2 * Cifar10.RecordSize, new FileInfo(path).Length);
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(3, raw[0]); // label byte first
        Assert.Equal(pixels[0], raw[1]); // then the red plane
        Assert.Equal(pixels[1024], raw[1 + 1024]); // then green
        Assert.Equal(9, raw[Cifar10.RecordSize]); // next record's label

        var (l, p) = Cifar10.ReadBatch(path);
        Assert.Equal(labels, l);
        Assert.Equal(pixels, p);
    }

    [Fact]
    public void ImagesTensor_ChannelsFollowPlanes_AndNormalizeToMinusOneOne()
    {
        var pixels = new byte[Cifar10.RecordPixels];
        Array.Fill(pixels, (byte)255, 0, 1024); // red plane 255
        Array.Fill(pixels, (byte)0, 1024, 1024); // green 0
        Array.Fill(pixels, (byte)51, 2048, 1024); // blue 51 -> (0.2 - 0.5)/0.5 = -0.6
        pixels[5 * 32 + 7] = 0; // red at row 5, column 7
        var set = new Cifar10Set([1], pixels);
        using var x = set.ImagesTensor();
        Assert.Equal([1L, 3, 32, 32], x.shape);
        Assert.Equal(1.0f, x[0, 0, 0, 0].item<float>());
        Assert.Equal(-1.0f, x[0, 0, 5, 7].item<float>());
        Assert.Equal(-1.0f, x[0, 1, 31, 31].item<float>());
        Assert.Equal(-0.6f, x[0, 2, 10, 3].item<float>(), 6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3072)]
    [InlineData(3073 * 2 + 5)]
    public void ReadBatch_SizeNotWholeRecords_IsUsageErrorNamingTheFile(int length)
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "data_batch_1.bin");
        File.WriteAllBytes(path, new byte[length]);
        var e = Assert.Throws<UsageException>(() => Cifar10.ReadBatch(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("3073", e.Message);
    }

    [Fact]
    public void ReadBatch_LabelAboveNine_IsUsageError()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "test_batch.bin");
        var bytes = new byte[Cifar10.RecordSize * 2];
        bytes[Cifar10.RecordSize] = 10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<UsageException>(() => Cifar10.ReadBatch(path));
        Assert.Contains("record 1 has label 10", e.Message);
    }

    [Fact]
    public void ReadBatch_MissingFile_IsUsageError()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "nope.bin");
        var e = Assert.Throws<UsageException>(() => Cifar10.ReadBatch(path));
        Assert.Contains("no such file", e.Message);
    }

    [Fact]
    public void Load_LimitAndLocate_ReadsAcrossFilesInOrder()
    {
        string root = TestEnvironment.NewTempDir();
        string folder = SyntheticCifar.WriteFolder(root, trainPerFile: 20, test: 10, seed: 5, trainFiles: 2);
        Assert.Equal(folder, Cifar10.Locate(root));
        Assert.Equal(folder, Cifar10.Locate(folder));
        Assert.Null(Cifar10.Locate(TestEnvironment.NewTempDir()));
        var all = Cifar10.Load(folder, train: true, limit: 40);
        Assert.Equal(40, all.Count);
        // data_batch_3..5 missing: refused, not skipped
        var e = Assert.Throws<UsageException>(() => Cifar10.Load(folder, train: true));
        Assert.Contains("data_batch_3.bin: no such file", e.Message);
        Assert.Contains("--limit-train 40", TestEnvironment.AsShown(e));
        var some = Cifar10.Load(folder, train: true, limit: 25);
        Assert.Equal(all.Labels[..25], some.Labels);
        Assert.Equal(all.Pixels[..(25 * Cifar10.RecordPixels)], some.Pixels);
        Assert.Equal(10, Cifar10.Load(folder, train: false).Count);
    }

    static string MakeArchive(string dir, out string folderContents)
    {
        string src = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(src, trainPerFile: 3, test: 2, seed: 1);
        folderContents = Path.Combine(src, Cifar10.FolderName);
        string archive = Path.Combine(dir, "cifar-10-binary.tar.gz");
        using (var fs = File.Create(archive))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
            TarFile.CreateFromDirectory(folderContents, gz, includeBaseDirectory: true);
        return archive;
    }

    [Fact]
    public void VerifyAndExtract_ChecksumMismatch_DeletesArchiveAndExtractsNothing()
    {
        string dataDir = TestEnvironment.NewTempDir();
        string archive = MakeArchive(dataDir, out _);
        var e = Assert.Throws<LabFailedException>(() =>
            Downloader.VerifyAndExtract(archive, Cifar10.Md5, dataDir, Cifar10.FolderName)
        );
        Assert.Contains("checksum mismatch", e.Message);
        Assert.False(File.Exists(archive));
        Assert.Empty(Directory.GetFileSystemEntries(dataDir));
    }

    [Fact]
    public void VerifyAndExtract_MatchingChecksum_PutsCompleteFolderInPlace()
    {
        string dataDir = TestEnvironment.NewTempDir();
        string archive = MakeArchive(dataDir, out string original);
        string target = Downloader.VerifyAndExtract(archive, Downloader.Md5Of(archive), dataDir, Cifar10.FolderName);
        Assert.Equal(Path.Combine(dataDir, Cifar10.FolderName), target);
        Assert.Equal(Cifar10.Locate(dataDir), target);
        foreach (string f in Directory.GetFiles(original))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(target, Path.GetFileName(f))));
        Assert.DoesNotContain(Directory.GetDirectories(dataDir), d => Path.GetFileName(d).StartsWith(".extract"));
    }

    [Fact]
    public void FetchCifar10_FromLoopbackServer_WithWrongChecksum_LeavesNoDatasetFolder()
    {
        string serveDir = TestEnvironment.NewTempDir();
        string archive = MakeArchive(serveDir, out _);
        byte[] bytes = File.ReadAllBytes(archive);
        using var server = new LoopbackFileServer(bytes);
        string dataDir = TestEnvironment.NewTempDir();

        var e = Assert.Throws<LabFailedException>(() =>
            Downloader.FetchCifar10(dataDir, null, server.Url, md5: Cifar10.Md5)
        );
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Null(Cifar10.Locate(dataDir));
        Assert.Empty(Directory.GetFileSystemEntries(dataDir));

        var progress = new List<DownloadProgress>();
        string folder = Downloader.FetchCifar10(
            dataDir,
            new SyncProgressForTests<DownloadProgress>(progress.Add),
            server.Url,
            Downloader.Md5Of(archive)
        );
        Assert.Equal(folder, Cifar10.Locate(dataDir));
        Assert.Equal(bytes.Length, progress[^1].Received);
        Assert.Equal(bytes.Length, progress[^1].Total);
        Assert.Equal([Cifar10.FolderName], Directory.GetFileSystemEntries(dataDir).Select(Path.GetFileName));
    }

    [Fact]
    public void FetchCifar10_Offline_IsLabFailureNamingTheUrl()
    {
        string dataDir = TestEnvironment.NewTempDir();
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        var e = Assert.Throws<LabFailedException>(() =>
            Downloader.FetchCifar10(dataDir, null, "http://127.0.0.1:9/cifar-10-binary.tar.gz")
        );
        Assert.Contains("cannot download http://127.0.0.1:9/", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dataDir));
    }
}

public sealed class SyncProgressForTests<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}

/// <summary>Serves one byte array over HTTP on 127.0.0.1 (a free port) until disposed.</summary>
public sealed class LoopbackFileServer : IDisposable
{
    readonly System.Net.HttpListener listener = new();
    readonly Task loop;
    public string Url { get; }

    public LoopbackFileServer(byte[] content)
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        Url = $"http://127.0.0.1:{port}/cifar-10-binary.tar.gz";
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        loop = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext ctx;
                try
                {
                    ctx = await listener.GetContextAsync();
                }
                catch
                {
                    return;
                }
                ctx.Response.ContentLength64 = content.Length;
                await ctx.Response.OutputStream.WriteAsync(content);
                ctx.Response.Close();
            }
        });
    }

    /// <summary>Close only: on Linux, Stop and then Close each unregister the prefix, and the second finds the port's
    /// entry gone and binds the port again to remove it, which fails ("Address already in use") when another socket has
    /// taken it meanwhile.</summary>
    public void Dispose() => listener.Close();
}
