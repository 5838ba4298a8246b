using SkiaSharp;
using TorchLabs.Data;
using TorchLabs.Models;
using TorchLabs.Runtime;
using static TorchSharp.torch;

namespace TorchLabs.Labs;

/// <summary>One image file's top classes with their softmax probabilities.</summary>
public sealed record Prediction(string File, int Width, int Height, IReadOnlyList<(string Class, double Probability)> Top);

/// <summary>
/// `torchlabs predict`: classifies PNG or JPEG files with a CIFAR-10 model (.pth, .safetensors or TorchSharp's format). Each image
/// is decoded by SkiaSharp (already in the dependency tree through ScottPlot), resized to 32 × 32 when it is another size, and
/// normalised exactly as in training (ToTensor, Normalize(0.5, 0.5)).
/// </summary>
public static class PredictLab
{
    /// <summary>The image's pixels as CIFAR-10's planes [3, 32, 32] of bytes (R, G, B); a file that is not an image is bad input.</summary>
    public static (byte[] Chw, int Width, int Height) Decode(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file; expected a PNG or JPEG image");
        using var decoded = SKBitmap.Decode(path)
            ?? throw new UsageException($"{path}: not an image SkiaSharp can decode; expected a PNG or JPEG file");
        int w = decoded.Width, h = decoded.Height;
        using var rgba = decoded.Copy(SKColorType.Rgba8888);
        using var sized = w == 32 && h == 32 ? rgba.Copy() : rgba.Resize(new SKImageInfo(32, 32, SKColorType.Rgba8888),
            new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
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

    /// <summary>Loads the model once and classifies every file, returning the <paramref name="top"/> classes of each.</summary>
    public static IReadOnlyList<Prediction> Run(string modelPath, IReadOnlyList<string> files, int top = 3)
    {
        if (files.Count == 0) throw new UsageException("predict: expected at least one IMAGE file");
        if (top is < 1 or > 10) throw new UsageException($"--top {top}: expected 1 to 10");
        var images = files.Select(Decode).ToList();   // every file is checked before the model is read
        using var scope = NewDisposeScope();
        using var gen = new Generator(1);
        var net = new CifarNet(gen);
        ModelFiles.Load(net, modelPath, "the tutorial's Net", "--model");
        net.eval();
        using var _ = no_grad();
        var batch = Cifar10.Normalize(tensor(images.SelectMany(i => i.Chw).ToArray(), [images.Count, 3, 32, 32]));
        float[] p = nn.functional.softmax(net.call(batch), 1).data<float>().ToArray();
        return files.Select((f, n) => new Prediction(f, images[n].Width, images[n].Height,
            Enumerable.Range(0, 10).OrderByDescending(c => p[n * 10 + c]).Take(top).Select(c =>
                (Cifar10.ClassNames[c], (double)p[n * 10 + c])).ToList())).ToList();
    }
}
