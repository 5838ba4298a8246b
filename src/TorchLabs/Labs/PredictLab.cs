using SkiaSharp;
using TorchLabs.Data;
using TorchLabs.Models;

namespace TorchLabs.Labs;

/// <summary>One image file's top classes with their softmax probabilities.</summary>
public sealed record Prediction(
    string File,
    int Width,
    int Height,
    IReadOnlyList<(string Class, double Probability)> Top
);

/// <summary>
/// `torchlabs predict`: classifies PNG or JPEG files with a CIFAR-10 model (.pth, .safetensors or TorchSharp's format).
/// Each image is decoded by SkiaSharp (already in the dependency tree through ScottPlot), resized to 32 × 32 when it is
/// another size, and normalised exactly as in training (ToTensor, Normalize(0.5, 0.5)).
/// </summary>
public static class PredictLab
{
    /// <summary>The most pixels an image may declare (16 megapixels: a 4,000 × 4,000 photograph, ≈ 200 MB at most while
    /// decoding); larger ones are refused from their header, before any pixel is decoded.</summary>
    public const long MaxPixels = 16_000_000;

    /// <summary>Images classified per forward pass: memory stays flat in the number of files.</summary>
    public const int Batch = 256;

    /// <summary>
    /// The image's pixels as CIFAR-10's planes [3, 32, 32] of bytes (R, G, B). Bad input, each named: a file that is
    /// not an image, an image whose header declares more than <see cref="MaxPixels"/> (checked before decoding), a
    /// truncated image. Alpha is dropped as PIL's <c>convert('RGB')</c> drops it: the stored colours, not colours
    /// multiplied by alpha.
    /// </summary>
    public static (byte[] Chw, int Width, int Height) Decode(string path)
    {
        string name = Printable.Quote(path, 200);
        using var file = InputFile.OpenRead(path, name, "a PNG or JPEG image");
        using var codec = SKCodec.Create(file)
            ?? throw new UsageException($"{name}: not an image SkiaSharp can decode; expected a PNG or JPEG file");
        long declared = (long)codec.Info.Width * codec.Info.Height;
        if (codec.Info.Width <= 0 || codec.Info.Height <= 0 || declared > MaxPixels)
            throw new UsageException(
                $"{name}: the image declares {codec.Info.Width} × {codec.Info.Height} pixels; expected at most {MaxPixels:N0} pixels (refused before decoding)"
            );
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
            throw new UsageException(
                result == SKCodecResult.IncompleteInput
                    ? $"{name}: the image is truncated (its data ends before its last row); expected a whole PNG or JPEG file"
                    : $"{name}: SkiaSharp could not decode the image ({result}); expected a PNG or JPEG file"
            );
        int w = decoded.Width,
            h = decoded.Height;
        // Alpha dropped as PIL's convert('RGB') drops it: the stored colours become opaque, then the image is resized.
        var bytes = new byte[info.BytesSize];
        System.Runtime.InteropServices.Marshal.Copy(decoded.GetPixels(), bytes, 0, bytes.Length);
        for (int i = 3; i < bytes.Length; i += 4)
            bytes[i] = 255;
        using var rgb = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, rgb.GetPixels(), bytes.Length);
        using var sized =
            w == 32 && h == 32
                ? rgb.Copy()
                : rgb.Resize(
                    new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque),
                    new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
                );
        var chw = new byte[Cifar10.RecordPixels];
        for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
        {
            var c = sized.GetPixel(x, y);
            chw[y * 32 + x] = c.Red;
            chw[1024 + y * 32 + x] = c.Green;
            chw[2048 + y * 32 + x] = c.Blue;
        }
        return (chw, w, h);
    }

    /// <summary>Loads the model once and classifies every file, returning the <paramref name="top"/> classes of
    /// each.</summary>
    public static IReadOnlyList<Prediction> Run(string modelPath, IReadOnlyList<string> files, int top = 3)
    {
        if (files.Count == 0)
            throw new UsageException("predict: expected at least one IMAGE file");
        if (top is < 1 or > 10)
            throw new UsageException($"‹top› {top}: expected 1 to 10");
        var images = files.Select(Decode).ToList(); // every file is checked before the model is read
        using var scope = NewDisposeScope();
        using var gen = new Generator(1);
        using var net = new CifarNet(gen);
        ModelFiles.Load(net, modelPath, "the tutorial's Net", "‹model›");
        net.eval();
        using var _ = no_grad();
        var p = new float[images.Count * 10];
        for (int start = 0; start < images.Count; start += Batch)
        {
            using var step = NewDisposeScope();
            var chunk = images.GetRange(start, Math.Min(Batch, images.Count - start));
            var batch = Cifar10.Normalize(tensor(chunk.SelectMany(i => i.Chw).ToArray(), [chunk.Count, 3, 32, 32]));
            nn.functional.softmax(net.call(batch), 1).data<float>().ToArray().CopyTo(p, start * 10);
        }
        return files
            .Select(
                (f, n) =>
                    new Prediction(
                        f,
                        images[n].Width,
                        images[n].Height,
                        Enumerable
                            .Range(0, 10)
                            .OrderByDescending(c => p[n * 10 + c])
                            .Take(top)
                            .Select(c => (Cifar10.ClassNames[c], (double)p[n * 10 + c]))
                            .ToList()
                    )
            )
            .ToList();
    }
}
