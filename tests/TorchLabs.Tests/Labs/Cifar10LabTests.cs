using System.Text.RegularExpressions;
using TorchLabs.Labs;
using TorchLabs.Runtime;
using TorchLabs.Tests.Data;

namespace TorchLabs.Tests.Labs;

public class Cifar10LabTests
{
    [Fact]
    public void LogLines_MatchTheTutorialsFormatExactly()
    {
        Assert.Equal("[1,  2000] loss: 2.144", Cifar10Lab.LossLine(1, 2000, 2.1444));
        Assert.Equal("[2, 12000] loss: 1.250", Cifar10Lab.LossLine(2, 12000, 1.2496));
        Assert.Equal("[1,    20] loss: 0.000", Cifar10Lab.LossLine(1, 20, 0.0));
        Assert.Equal("Accuracy of the network on the 10000 test images: 54 %", Cifar10Lab.AccuracyLine(5499, 10000));
        Assert.Equal("Accuracy for class: plane is 37.9 %", Cifar10Lab.ClassLine("plane", 37.9));
        Assert.Equal("Accuracy for class: car   is 50.0 %", Cifar10Lab.ClassLine("car", 50));
    }

    static Cifar10Options Options(string data, string outDir, int epochs = 2) =>
        new()
        {
            DataDir = data,
            OutDir = outDir,
            Epochs = epochs,
            LogEvery = 50,
            Seed = 4,
        };

    [Trait("Speed", "Slow")]
    [Fact]
    public void Run_GeneratedLearnableSet_EndsWellAboveChance_AndPrintsTheTutorialsLines()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 200, test: 200, seed: 21);
        string outDir = TestEnvironment.NewTempDir();

        // The tutorial's lr 0.001 needs thousands of steps to leave chance; 500 steps at 0.003 suffice here. (At 0.01
        // this small set trains chaotically: float32 rounding alone, one lane or two, moved the end from 13 % to 63 %
        // across seeds; at 0.003 every seed tried, 1 to 4, with one lane or two, ended at 100 %.)
        var r = Cifar10Lab.Run(Options(data, outDir) with { LearningRate = 0.003, LogEvery = 125 });

        Assert.True(r.Accuracy > 60, $"accuracy {r.Accuracy} % (chance is 10 %)");
        // 1000 training images / batch 4 = 250 mini-batches per epoch; a line every 125.
        Assert.Equal(["[1,   125]", "[1,   250]", "[2,   125]", "[2,   250]"], r.Log.Take(4).Select(l => l[..10]));
        Assert.All(r.Log.Take(4), l => Assert.Matches(@"^\[\d, +\d+\] loss: \d+\.\d{3}$", l));
        Assert.Equal("Finished Training", r.Log[4]);
        Assert.Matches(@"^GroundTruth:  (\w+ *){4}$", r.Log[5]); // the tutorial's "test the network on the test data"
        Assert.Matches(@"^Predicted:  (\w+ *){4}$", r.Log[6]);
        Assert.Equal(4, r.FirstFour.Count);
        Assert.Equal($"Accuracy of the network on the 200 test images: {100 * r.Correct / 200} %", r.Log[7]);
        Assert.Equal(
            10,
            r.Log.Skip(6).Count(l => Regex.IsMatch(l, @"^Accuracy for class: [a-z ]{5} is (\d+\.\d|n/a) %$"))
        );
        Assert.True(r.LossCurve[^1].Loss < r.LossCurve[0].Loss);
        Assert.True(File.Exists(Path.Combine(outDir, "cifar_net.dat")));
        // Figures are values; the renderer writes them (the command and the report do this).
        Assert.Equal(r.Figures.Count, TorchLabs.Reporting.Figures.Write(r.Figures, outDir).Count);
        Assert.All(r.Figures, f =>
            Assert.Equal((byte)0x89, File.ReadAllBytes(Path.Combine(outDir, f.RelativePath))[0])
        );
        // Microsoft.ML's evaluation agrees with our count.
        Assert.Equal(r.Correct / 200.0, r.Metrics.MicroAccuracy, 12);
        Assert.Equal(r.Correct, Enumerable.Range(0, 10).Sum(i => r.Metrics.Confusion[i][i]));
    }

    [Fact]
    public void Run_SameSeed_SameLossCurve()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 40, test: 20, seed: 2);
        var a = Cifar10Lab.Run(Options(data, TestEnvironment.NewTempDir(), 1) with { LogEvery = 2 });
        var b = Cifar10Lab.Run(Options(data, TestEnvironment.NewTempDir(), 1) with { LogEvery = 2 });
        Assert.Equal(a.LossCurve, b.LossCurve);
        Assert.Equal(a.Correct, b.Correct);
    }

    [Fact]
    public void Run_NoData_NamesTheFolderAndTheDownloadCommand()
    {
        string empty = TestEnvironment.NewTempDir();
        var e = Assert.Throws<UsageException>(() => Cifar10Lab.Run(Options(empty, TestEnvironment.NewTempDir())));
        Assert.Contains(empty, e.Message);
        Assert.Contains("torchlabs cifar10 --download", TestEnvironment.AsShown(e));
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("--epochs", "0")]
    [InlineData("--batch-size", "0")]
    [InlineData("--lr", "-1")]
    [InlineData("--lr", "NaN")]
    [InlineData("--lr", "Infinity")]
    [InlineData("--momentum", "1.5")]
    [InlineData("--log-every", "0")]
    public void Cli_BadNumber_ExitsTwoNamingTheOption(string option, string value)
    {
        var r = TestEnvironment.RunInProcess("cifar10", "--data", TestEnvironment.NewTempDir(), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"torchlabs: {option}", r.StdErr.Trim());
        Assert.Single(r.StdErr.Trim().Split('\n'));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_Json_OnGeneratedData_PrintsOneObjectWithTheKeys()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 20, test: 20, seed: 8);
        string outDir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--out",
            outDir,
            "--epochs",
            "1",
            "--log-every",
            "1",
            "--threads",
            "1",
            "--format",
            "json",
            "--limit-train",
            "20"
        );
        using var doc = TestEnvironment.Json(r);
        foreach (string key in new[] { "accuracy", "perClass", "lossCurve", "modelPath", "seconds" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        Assert.Equal(5, doc.RootElement.GetProperty("lossCurve").GetArrayLength());
        Assert.Contains("Finished Training", r.StdErr); // log lines go to stderr when stdout carries JSON
        // torchinfo's numbers for batch 4 (ModelSummaryTests has the oracle)
        var summary = doc.RootElement.GetProperty("summary");
        Assert.Equal(62_006, summary.GetProperty("totals").GetProperty("parameters").GetInt64());
        Assert.Equal(4 * 651_720L, summary.GetProperty("totals").GetProperty("multiplyAdds").GetInt64());
        Assert.Equal(7, summary.GetProperty("layers").GetArrayLength());
        Assert.Equal("conv1", summary.GetProperty("layers")[0].GetProperty("name").GetString());
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Cli_Text_PrintsTheTutorialsLinesOnStdout()
    {
        string data = TestEnvironment.NewTempDir();
        SyntheticCifar.WriteFolder(data, trainPerFile: 16, test: 10, seed: 8);
        string outDir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.RunInProcess(
            "cifar10",
            "--data",
            data,
            "--out",
            outDir,
            "--epochs",
            "2",
            "--log-every",
            "2",
            "--threads",
            "1",
            "--limit-train",
            "16"
        );
        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] lines = r.StdOut.TrimEnd().Split('\n');
        Assert.Equal("[1,     2] loss: ", lines[0][..17]);
        // 16 images / batch 4 = 4 mini-batches, a line every 2, 2 epochs
        Assert.Equal(4, lines.Count(l => l.StartsWith('[')));
        Assert.Contains("Finished Training", lines);
        Assert.Contains("Accuracy of the network on the 10 test images: ", r.StdOut);
        Assert.Equal(10, lines.Count(l => l.StartsWith("Accuracy for class: ")));
        Assert.True(File.Exists(Path.Combine(outDir, "cifar_net.dat")));
    }
}
