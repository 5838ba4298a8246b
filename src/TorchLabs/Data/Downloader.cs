using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace TorchLabs.Data;

/// <summary>Download progress: bytes received and, when the server says, the total.</summary>
public readonly record struct DownloadProgress(long Received, long? Total);

/// <summary>
/// Fetches a dataset archive, checks its MD5 before anything is extracted, extracts it with the framework's own
/// gzip and tar support into a temporary folder, and renames the result into place. Nothing half-written is left:
/// a failed or mismatched download is deleted, and the dataset folder appears only when it is complete.
/// </summary>
public static class Downloader
{
    /// <summary>The MD5 of a file as lower-case hex.</summary>
    public static string Md5Of(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(fs));
    }

    /// <summary>Downloads <paramref name="url"/> to <paramref name="destination"/> (written under a temporary name,
    /// then renamed).</summary>
    public static async Task DownloadAsync(
        HttpClient http,
        string url,
        string destination,
        IProgress<DownloadProgress>? progress,
        CancellationToken ct = default
    )
    {
        string tmp = AtomicFile.TemporaryNameFor(destination);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            long? total = response.Content.Headers.ContentLength;
            await using (var src = await response.Content.ReadAsStreamAsync(ct))
            await using (var dst = File.Create(tmp))
            {
                var buffer = new byte[1 << 16];
                long received = 0;
                int n;
                while ((n = await src.ReadAsync(buffer, ct)) > 0)
                {
                    await dst.WriteAsync(buffer.AsMemory(0, n), ct);
                    received += n;
                    progress?.Report(new DownloadProgress(received, total));
                }
            }
            File.Move(tmp, destination, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
                File.Delete(tmp);
        }
    }

    /// <summary>
    /// Checks <paramref name="archive"/>'s MD5, then extracts the .tar.gz into a temporary folder in
    /// <paramref name="dataDir"/> and renames its <paramref name="folderName"/> into DATA/folderName.
    /// On a mismatch the archive is deleted and a <see cref="LabFailedException"/> says so.
    /// </summary>
    public static string VerifyAndExtract(string archive, string expectedMd5, string dataDir, string folderName)
    {
        string actual = Md5Of(archive);
        if (!string.Equals(actual, expectedMd5, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(archive);
            throw new LabFailedException(
                $"{archive}: checksum mismatch: MD5 {actual}, expected {expectedMd5}; the download was deleted, nothing was extracted"
            );
        }
        string staging = Path.Combine(dataDir, $".extract-{folderName}-{Environment.ProcessId}");
        if (Directory.Exists(staging))
            Directory.Delete(staging, true);
        Directory.CreateDirectory(staging);
        try
        {
            using (var fs = File.OpenRead(archive))
            using (var gz = new GZipStream(fs, CompressionMode.Decompress))
                TarFile.ExtractToDirectory(gz, staging, overwriteFiles: true);
            string extracted = Path.Combine(staging, folderName);
            if (!Directory.Exists(extracted))
                throw new LabFailedException($"{archive}: the archive holds no folder {folderName}");
            string target = Path.Combine(dataDir, folderName);
            if (Directory.Exists(target))
                Directory.Delete(target, true);
            Directory.Move(extracted, target);
            return target;
        }
        catch (InvalidDataException e)
        {
            throw new LabFailedException($"{archive}: not a valid .tar.gz archive: {e.Message}");
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, true);
        }
    }

    /// <summary>Downloads, verifies and extracts CIFAR-10 into DATA/cifar-10-batches-bin; returns that
    /// folder.</summary>
    public static string FetchCifar10(
        string dataDir,
        IProgress<DownloadProgress>? progress,
        string url = Cifar10.Url,
        string md5 = Cifar10.Md5
    )
    {
        Directory.CreateDirectory(dataDir);
        string archive = Path.Combine(dataDir, "cifar-10-binary.tar.gz");
        if (!File.Exists(archive))
        {
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
                DownloadAsync(http, url, archive, progress).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                throw new LabFailedException(
                    $"cannot download {url}: {e.Message}; on a machine with internet access fetch it and extract it into {dataDir}"
                );
            }
        }
        string folder = VerifyAndExtract(archive, md5, dataDir, Cifar10.FolderName);
        File.Delete(archive);
        return folder;
    }
}
