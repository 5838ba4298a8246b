using TorchLabs.Gradients;
using TorchLabs.Runtime;

namespace TorchLabs.Tests.Gradients;

public class DropoutConcatTests
{
    public static TheoryData<int, int, int, long> Shapes() =>
        new()
        {
            { 4, 5, 3, 1 },
            { 1, 3, 2, 2 },
            { 6, 2, 2, 3 },
            { 3, 8, 5, 4 },
            { 1, 1, 2, 5 },
            { 10, 7, 4, 6 },
        };

    static void AssertPasses(NetworkCheckResult r)
    {
        Assert.Equal(11, r.Entries.Count);
        Assert.Equal(DropoutConcatGrads.Names, r.Entries.Select(e => e.Name));
        foreach (var e in r.Entries)
        {
            Assert.True(e.RelError <= 1e-9, $"{e.Name}: hand vs autograd {e.RelError:E2}");
            if (e.Numeric is not null)
                Assert.True(e.NumericRelError <= 1e-6, $"{e.Name}: hand vs central differences {e.NumericRelError:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RandomCase_AllElevenDerivatives_MatchAutogradAndCentralDifferences(int d, int s, int k, long seed)
    {
        var r = DropoutConcatCheck.Run(DropoutConcatCase.Random(d, s, k, seed));
        AssertPasses(r);
        Assert.True(r.Entries.Count(e => e.Numeric is not null) >= 7);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void MaskAllZerosOrAllOnes_Passes(double maskValue)
    {
        var c = DropoutConcatCase.Random(4, 3, 3, 9);
        c = c with { M = Enumerable.Repeat(maskValue, c.M.Length).ToArray() };
        var r = DropoutConcatCheck.Run(c);
        AssertPasses(r);
        if (maskValue == 0)
            Assert.All(r.Entries.Where(e => e.Name is "dL/dW2" or "dL/da1" or "dL/dW1"), e =>
                Assert.All(e.Hand, v => Assert.Equal(0, v))
            );
    }

    [Fact]
    public void ReluInputExactlyZero_HandTakesLibtorchsZero_AndSkipsCentralDifferences()
    {
        var c = DropoutConcatCase.Random(3, 4, 2, 11);
        // Make h1[0] = W1[:,0]·x + b1[0] exactly 0 and h1[1] positive.
        double dot = c.X.Select((xi, i) => xi * c.W1[i][0]).Sum();
        c = c with { B1 = c.B1.Select((b, j) => j == 0 ? -dot : b).ToArray(), M = Enumerable.Repeat(1.0, 7).ToArray() };
        var r = DropoutConcatCheck.Run(c);
        AssertPasses(r);
        var dh1 = r.Entries.Single(e => e.Name == "dL/dh1");
        Assert.Null(dh1.Numeric);
        Assert.Equal(0, dh1.Hand[0]);
        Assert.Equal(0, dh1.Autograd[0]);
    }

    [Theory]
    [InlineData("{}", "missing key \"x\"")]
    [InlineData("[1,2]", "expected one JSON object")]
    [InlineData(
        "{\"x\": [1, 2], \"b1\": [0], \"b2\": [0, 0], \"y\": [1, 0], \"W1\": [[1], [2], [3]], \"W2\": [[1,1],[1,1],[1,1]], "
            + "\"m\": [1,1,1]}",
        "key \"W1\": expected d = 2 rows of s = 1 numbers"
    )]
    [InlineData(
        "{\"x\": [1, 2], \"b1\": [0], \"b2\": [0, 0], \"y\": [1, 0], \"W1\": [[1], [2, 3]], \"W2\": [[1,1],[1,1],[1,1]], \"m\": "
            + "[1,1,1]}",
        "key \"W1\": row 1: expected 1 numbers"
    )]
    [InlineData(
        "{\"x\": [1, 2], \"b1\": [0], \"b2\": [0, 0], \"y\": [1, 1], \"W1\": [[1], [2]], \"W2\": [[1,1],[1,1],[1,1]], \"m\": "
            + "[1,1,1]}",
        "key \"y\": expected one-hot"
    )]
    [InlineData(
        "{\"x\": [1, 2], \"b1\": [0], \"b2\": [0, 0], \"y\": [1, 0], \"W1\": [[1], [2]], \"W2\": [[1,1],[1,1]], \"m\": [1,1,1]}",
        "key \"W2\": expected s + d = 3 rows of k = 2 numbers"
    )]
    [InlineData(
        "{\"x\": [1, 2], \"b1\": [0], \"b2\": [0, 0], \"y\": [1, 0], \"W1\": [[1], [2]], \"W2\": [[1,1],[1,1],[1,1]], \"m\": "
            + "[1,0.5,1]}",
        "key \"m\": expected s + d = 3 values of 0 or 1"
    )]
    [InlineData("{\"x\": \"abc\"}", "key \"x\": expected a list of d numbers")]
    [InlineData("not json", "not valid JSON")]
    public void Parse_Malformed_NamesKeyAndShape(string json, string expected)
    {
        var e = Assert.Throws<UsageException>(() => DropoutConcatCase.Parse(json, "case.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("case.json", e.Message);
    }
}
