using TorchLabs.Checkpoints;
using TorchLabs.Data;
using TorchLabs.Fast;
using TorchLabs.Models;
using TorchLabs.Runtime;
using TorchLabs.Sweeps;
using static TorchSharp.torch;

namespace TorchLabs.Fuzz;

/// <summary>Small valid inputs for each harness, from which the fuzzer starts (AFL's "seeds"; the .pth ones are the
/// golden files of the tests).</summary>
public static class StartingInputs
{
    public static void Write(string root)
    {
        string D(string name) => Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        // small: the fuzzer mutates every byte
        using (var small = nn.Sequential(("fc1", nn.Linear(3, 2)), ("fc2", nn.Linear(2, 1))))
        {
            ModelFiles.SaveSafetensors(small, Path.Combine(D("model"), "small.safetensors"));
            small.save(Path.Combine(D("model"), "small.dat"));
        }
        using (var model = nn.Linear(2, 1))
        using (var sgd = new FlatSgd([.. model.parameters()], 0.1, 0.9))
        using (var generator = new Generator(1))
        using (var f = File.Create(Path.Combine(D("checkpoint"), "linear.body")))
        using (var w = new BinaryWriter(f))
        {
            var record = new TrainingRecord
            {
                Settings = [new(Setting.Of("seed"), "1")],
                LearningRate = 0.1,
                KeepsTimes = true,
            };
            record.EndEpoch(0.5, 1.0);
            record.Curve.Add(new LossPoint(1, 1, 0.5));
            record.Log.Add("[1,     1] loss: 0.500");
            record.Write(w, generator, model, sgd.Hooks());
        }
        byte[] pixels = [.. Enumerable.Range(0, 2 * Cifar10.RecordPixels).Select(i => (byte)(i * 7))];
        // Two CIFAR-10 records, each a label byte and then its 3,072 pixels.
        File.WriteAllBytes(
            Path.Combine(D("cifar"), "two.bin"),
            [3, .. pixels[..Cifar10.RecordPixels], 9, .. pixels[Cifar10.RecordPixels..]]
        );
        Idx.Write(
            Path.Combine(D("idx"), "images-idx3-ubyte"),
            2051,
            [2, 28, 28],
            [.. Enumerable.Range(0, 2 * 784).Select(i => (byte)i)]
        );
        Idx.Write(Path.Combine(D("idx"), "labels-idx1-ubyte"), 2049, [2], [1, 7]);
        using (var bitmap = new SkiaSharp.SKBitmap(4, 3))
        {
            bitmap.Erase(new SkiaSharp.SKColor(200, 40, 90));
            using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(D("image"), "small.png"), png.ToArray());
            using var jpeg = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(Path.Combine(D("image"), "small.jpg"), jpeg.ToArray());
        }
        var plan = SweepPlan.Expand(
            "optimizers",
            new Dictionary<string, string[]> { ["lr"] = ["0.1", "0.2"] },
            [1, 2],
            ["--steps", "2"]
        );
        File.WriteAllText(Path.Combine(D("sweep"), "sweep.json"), plan.ToJson());
        File.WriteAllText(
            Path.Combine(D("result"), "optimizers.json"),
            "{\"loss\":[1.0,0.5,0.25],\"optimizer\":\"gd\"}"
        );
        File.WriteAllText(Path.Combine(D("result"), "race.json"), "{\"race\":[{\"optimizer\":\"gd\",\"finalF\":0.5}]}");
        File.WriteAllText(
            Path.Combine(D("result"), "cifar10.json"),
            "{\"accuracy\":54.1,\"lossCurve\":[{\"epoch\":1,\"batch\":2000,\"loss\":2.1}]}"
        );
        File.WriteAllText(
            Path.Combine(D("result"), "fashion-mnist.json"),
            "{\"runs\":[{\"optimizer\":\"sgd\",\"testAccuracy\":0.8,\"trainLoss\":[0.9,0.5]}]}"
        );
        File.WriteAllText(Path.Combine(D("set"), "steplr"), "StepLR\nstep_size=2\ngamma=0.5");
        File.WriteAllText(Path.Combine(D("set"), "onecycle"), "OneCycleLR\nmax_lr=0.1\ntotal_steps=10");
    }
}
