using System.Text.Json;

namespace TorchLabs.Tests.Cli;

public class GradCheckCliTests
{
    static IEnumerable<double> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten) : [e.GetDouble()];

    [Trait("Speed", "Slow")]
    [Fact]
    public void DropoutConcat_CaseFileFromPyTorch_JsonAgreesWithPyTorchAutograd()
    {
        using var golden = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "dropout_concat.json"))
        );
        var first = golden.RootElement.GetProperty("cases")[2];
        string casePath = Path.Combine(TestEnvironment.NewTempDir(), "case.json");
        File.WriteAllText(casePath, first.GetProperty("case").GetRawText());

        var r = TestEnvironment.RunInProcess(
            "gradcheck",
            "dropout-concat",
            "--case",
            casePath,
            "--format",
            "json",
            "--threads",
            "1"
        );

        using var doc = TestEnvironment.Json(r);
        var root = doc.RootElement;
        Assert.Equal("dropout-concat", root.GetProperty("network").GetString());
        Assert.Equal(first.GetProperty("loss").GetDouble(), root.GetProperty("loss").GetDouble(), 12);
        var hand = root.GetProperty("hand");
        Assert.Equal(11, hand.EnumerateObject().Count());
        foreach (var g in first.GetProperty("grads").EnumerateObject())
        {
            double[] expected = Flatten(g.Value).ToArray(),
                actual = Flatten(hand.GetProperty(g.Name)).ToArray();
            double scale = Math.Max(expected.Max(Math.Abs), 1e-300);
            Assert.True(expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max() / scale <= 1e-9, g.Name);
        }
        // dL/dW1 nested as d rows of s, dL/dW2 as s + d rows of k
        int d = first.GetProperty("case").GetProperty("x").GetArrayLength(),
            s = first.GetProperty("case").GetProperty("b1").GetArrayLength();
        Assert.Equal(d, hand.GetProperty("dL/dW1").GetArrayLength());
        Assert.Equal(s, hand.GetProperty("dL/dW1")[0].GetArrayLength());
        Assert.Equal(s + d, hand.GetProperty("dL/dW2").GetArrayLength());
        Assert.True(root.GetProperty("maxRelError").GetDouble() <= 1e-9);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void DropoutConcat_MalformedCase_ExitsTwoNamingKeyAndShape()
    {
        string casePath = Path.Combine(TestEnvironment.NewTempDir(), "bad.json");
        File.WriteAllText(
            casePath,
            "{\"x\": [1, 2], \"b1\": [0], \"b2\": [0, 0], \"y\": [1, 0], \"W1\": [[1], [2], [3]], \"W2\": [[1,1],[1,1],[1,1]], \"m\": "
                + "[1,1,1]}"
        );
        var r = TestEnvironment.RunInProcess("gradcheck", "dropout-concat", "--case", casePath);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("\"W1\"", r.StdErr);
        Assert.Contains("d = 2 rows of s = 1", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData("nosuchnet")]
    public void UnknownNetwork_ExitsTwo(string network)
    {
        var r = TestEnvironment.RunInProcess("gradcheck", network);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("expected one of", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void MissingCaseFile_ExitsTwo()
    {
        var r = TestEnvironment.RunInProcess("gradcheck", "dropout-concat", "--case", "/nonexistent/case.json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("/nonexistent/case.json", r.StdErr);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void All_Text_EveryNetworkPasses_AndNoLibtorchWarnings()
    {
        var r = TestEnvironment.RunCli("gradcheck", "all", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.DoesNotContain("NNPACK", r.StdErr);
        Assert.DoesNotContain("FAIL", r.StdOut);
        foreach (string n in TorchLabs.Gradients.GradCheckNetworks.Names)
            Assert.Contains(n, r.StdOut);
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Ops_Json_EveryOperationPasses()
    {
        var r = TestEnvironment.RunInProcess("gradcheck", "ops", "--format", "json", "--threads", "1", "--seed", "3");
        using var doc = TestEnvironment.Json(r);
        var ops = doc.RootElement.GetProperty("ops").EnumerateArray().ToList();
        Assert.True(ops.Count >= 40, $"{ops.Count} ops");
        foreach (var op in ops)
        {
            Assert.True(op.GetProperty("pass").GetBoolean(), op.GetProperty("name").GetString());
            Assert.True(op.GetProperty("maxAbsError").GetDouble() <= 1e-5);
            Assert.False(string.IsNullOrEmpty(op.GetProperty("shapes").GetString()));
            Assert.True(op.TryGetProperty("maxRelError", out _));
        }
        Assert.Contains(ops, o =>
            o.GetProperty("name").GetString() == "relu" && o.GetProperty("note").GetString()!.Contains("kinks at 0")
        );
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Ops_UnknownOp_IsBadInput()
    {
        var r = TestEnvironment.RunInProcess("gradcheck", "ops", "--op", "frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--op frobnicate: unknown operation", r.StdErr);
        Assert.Single(r.StdErr.Trim().Split('\n'));
    }

    [Trait("Speed", "Slow")]
    [Fact]
    public void Functions_Json_EveryHandFunctionPasses()
    {
        var r = TestEnvironment.RunInProcess("gradcheck", "functions", "--format", "json", "--threads", "1");
        using var doc = TestEnvironment.Json(r);
        var fs = doc.RootElement.GetProperty("functions").EnumerateArray().ToList();
        Assert.True(fs.Count >= 5);
        Assert.All(fs, f =>
            Assert.True(f.GetProperty("pass").GetBoolean() && f.GetProperty("gradgradcheck").GetBoolean())
        );
        // gradgradcheck's create_graph backward: no libtorch reference-cycle warning
        Assert.DoesNotContain("Warning", r.StdErr);
    }
}
