using TorchLabs.Models;
using System.CommandLine;
using TorchLabs.Labs;
using TorchLabs.Reporting;

namespace TorchLabs.Cli.Commands;

/// <summary>`torchlabs vanishing`: per-layer gradient norms of deep sigmoid, ReLU and residual stacks, and training curves.</summary>
public static class VanishingCommand
{
    public static Command Create()
    {
        var depth = new Option<int>("--depth")
        {
            Description = "Layers in each stack for the gradient norms", DefaultValueFactory = _ =>
            100
        };
        var width = new Option<int>("--width") { Description = "Units per layer", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "SGD steps of each training run", DefaultValueFactory = _ => 300 };
        var lr = new Option<double>("--lr") { Description = "SGD learning rate of the training runs", DefaultValueFactory = _ => 0.1 };
        var trainDepths = new Option<string>("--train-depths")
        {
            Description = "Depths of the training runs", DefaultValueFactory = _ =>
            "10,50,100"
        };
        var seed = CommonOptions.Seed();
        var format = CommonOptions.Format();
        var outDir = CommonOptions.Out("out/vanishing");
        var threads = CommonOptions.Threads();
        var tensorboard = CommonOptions.TensorBoard();
        var cmd = new Command("vanishing",
            "Vanishing gradients: per-layer gradient norms and training of deep sigmoid, ReLU and residual stacks")
            { depth, width, steps, lr, trainDepths, seed, format, outDir, threads, tensorboard };
        cmd.SetAction(p => Outcome.Guard(() =>
        {
            CommonOptions.Setup(p.GetValue(threads), "cpu");
            var o = new VanishingOptions
            {
                Depth = p.GetValue(depth), Width = p.GetValue(width), Steps = p.GetValue(steps), LearningRate = p.GetValue(lr),
                Seed = p.GetValue(seed), TrainDepths = CommonOptions.ParseSizes(p.GetValue(trainDepths)!, "--train-depths", 1),
                ModelsDir = Path.Combine(p.GetValue(outDir)!, "models"), TensorBoardDir = p.GetValue(tensorboard),
            };
            o.Validate();
            // torchinfo's summary of the deepest stack, one sample, before training (stderr in text mode).
            var summary = VanishingLab.Summary(o);
            if (p.GetValue(format) != "json") Console.Error.WriteLine(summary.ToText());
            var r = StatusLine.Around(status => VanishingLab.Run(o, status));
            if (p.GetValue(format) == "json")
            {
                Json.Print(new
                {
                    summary = summary.ToJson(),
                    depth = r.Depth,
                    width = r.Width,
                    gradNorms = r.GradNorms.ToDictionary(kv => kv.Key, kv => kv.Value.Weight),
                    activationGradNorms = r.GradNorms.ToDictionary(kv => kv.Key, kv => kv.Value.Activation),
                    bound = r.Bound,
                    training = new
                    {
                        steps = r.Steps,
                        lr = r.LearningRate,
                        runs = r.Training.Select(c => new
                        {
                            stack = c.Stack, depth = c.Depth, loss = c.Loss,
                            finalAccuracy = c.FinalAccuracy, divergedAtStep = c.DivergedAt
                        }),
                    },
                });
                return Outcome.Ok;
            }
            string dir = p.GetValue(outDir)!;
            SectionCommand.PrintBlocks("Vanishing gradients", VanishingLab.Blocks(r).ToList(), dir);
            return Outcome.Ok;
        }));
        return cmd;
    }
}
