using System.Globalization;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs predict --model PATH IMAGE...`: classify PNG or JPEG files with a CIFAR-10 model.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("IMAGE")
        {
            Description = "PNG or JPEG files (resized to 32 × 32 when another size)",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = new Option<string>("--model")
        {
            Description =
                "A CIFAR-10 model: cifar_net.pth (PyTorch's tutorial or torchlabs cifar10), .safetensors or TorchSharp's format",
            Required = true,
        };
        var top = new Option<int>("--top")
        {
            Description = "How many classes to print per image",
            DefaultValueFactory = _ => 3,
        };
        var format = CommonOptions.Format();
        var threads = CommonOptions.Threads();
        var cmd = new Command(
            "predict",
            "Classify PNG or JPEG images with a CIFAR-10 model: each file's top classes with their probabilities"
        )
        {
            images,
            model,
            top,
            format,
            threads,
        };
        cmd.SetAction(p =>
            Outcome.Guard(() =>
            {
                CommonOptions.Setup(p.GetValue(threads), "cpu");
                var results = PredictLab.Run(p.GetValue(model)!, p.GetValue(images)!, p.GetValue(top));
                if (p.GetValue(format) == "json")
                {
                    Json.Print(
                        new
                        {
                            model = Path.GetFullPath(p.GetValue(model)!),
                            predictions = results.Select(r => new
                            {
                                file = r.File,
                                width = r.Width,
                                height = r.Height,
                                top = r.Top.Select(t => new { @class = t.Class, probability = t.Probability }),
                            }),
                        }
                    );
                    return Outcome.Ok;
                }
                foreach (var r in results)
                    Console.Out.WriteLine(
                        $"{Printable.Path(r.File)}: "
                            + string.Join(
                                ", ",
                                r.Top.Select(t =>
                                    $"{t.Class} {t.Probability.ToString("P1", CultureInfo.InvariantCulture)}"
                                )
                            )
                    );
                return Outcome.Ok;
            })
        );
        return cmd;
    }
}
