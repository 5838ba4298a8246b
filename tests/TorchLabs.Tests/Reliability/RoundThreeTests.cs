using TorchLabs.Models;
using TorchLabs.Runtime;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Reliability;

/// <summary>
/// Issue #27's defects, those fixed so far (docs/reliability.md, "Round three"): text from model files reaches the terminal
/// escaped and cut (4), non-finite weights are refused (7), predict's messages name --model (12), and an argument that starts
/// with @ is a file name, not a response file (14).
/// </summary>
public class RoundThreeTests
{
    const string Hostile = "\u001b]0;pwned\u0007\u001b[2J\u001b[1;32m All checks passed\u202e";

    [Fact]
    public void D4_Printable_EscapesEveryNonPrintingCharacter_AndCutsLongText()
    {
        string shown = Printable.Escape(Hostile);
        Assert.Equal("\\x1B]0;pwned\\x07\\x1B[2J\\x1B[1;32m All checks passed\\u202E", shown);
        Assert.DoesNotContain(shown, c => char.IsControl(c));
        Assert.Equal("\"tab\\x09\"", Printable.Quote("tab\t"));
        string cut = Printable.Escape(new string('w', 1000), 100);
        Assert.Equal(new string('w', 100) + "… (900 more characters)", cut);
        Assert.Equal("façade ∂L/∂W", Printable.Escape("façade ∂L/∂W"));   // printable text stays as it is
    }

    /// <summary>The tutorial Net's state dict as safetensors, with one key renamed and one value changed as given.</summary>
    static string WriteState(string name, Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> change)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(2);
        var state = new CifarNet(gen).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        string path = Path.Combine(TestEnvironment.NewTempDir("torchlabs-r3"), name);
        Safetensors.SaveStateDict(path, change(state));
        return path;
    }

    [Fact]
    public void D4_KeyWithTerminalEscapes_IsNamedEscaped()
    {
        string path = WriteState("escape.safetensors", s =>
        {
            s[Hostile] = s["fc3.bias"].clone();   // an extra key: "unexpected key …"
            return s;
        });
        using var gen = new Generator(1);
        var e = Assert.Throws<UsageException>(() => ModelFiles.Load(new CifarNet(gen), path, "the tutorial's Net", "--model"));
        Assert.Contains("\\x1B]0;pwned\\x07", e.Message);
        Assert.DoesNotContain(e.Message, c => char.IsControl(c));
        Assert.StartsWith("--model ", e.Message);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void D4_KeyWithTerminalEscapes_NoByteOfItReachesTheTerminal()
    {
        string path = WriteState("escape.safetensors", s =>
        {
            s[Hostile] = s["fc3.bias"].clone();   // an extra key: "unexpected key …"
            return s;
        });
        string data = TestEnvironment.NewTempDir();
        Data.SyntheticCifar.WriteFolder(data, 8, 8, seed: 3);
        var r = TestEnvironment.RunCli("cifar10", "--load", path, "--data", data, "--out", TestEnvironment.NewTempDir(), "--threads", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain(r.StdErr + r.StdOut, c => c is '\u001b' or '\u0007' or '\u202e');
        Assert.Contains("\\x1B", r.StdErr);
        Assert.Single(r.StdErr.Trim().Split('\n'));
    }

    [Fact]
    public void D7_NonFiniteWeights_AreRefusedNamingTheFirstTensor()
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity })
        {
            string path = WriteState("nan.safetensors", s =>
            {
                s["fc2.weight"][0, 0] = bad;
                return s;
            });
            using var gen = new Generator(1);
            var e = Assert.Throws<UsageException>(() => ModelFiles.Load(new CifarNet(gen), path, "the tutorial's Net"));
            Assert.Equal($"--load {path}: tensor \"fc2.weight\" holds NaN or infinite values; expected finite weights", e.Message);
        }
    }

    [Fact]
    public void D12_PredictsMessages_NameTheModelOption()
    {
        var e = Assert.Throws<UsageException>(() => ModelFiles.Detect("/nonexistent/cifar_net.pth", "--model"));
        Assert.StartsWith("--model /nonexistent/cifar_net.pth: no such file", e.Message);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void D14_AnArgumentStartingWithAt_IsAFileName_NotAResponseFile()
    {
        string dir = TestEnvironment.NewTempDir();
        var r = TestEnvironment.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "torchlabs.dll"), "predict", "--model", "none.pth",
            "@at.png"], workingDirectory: dir);
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("Response file", r.StdErr);
        Assert.Contains("@at.png", r.StdErr);
    }
}
