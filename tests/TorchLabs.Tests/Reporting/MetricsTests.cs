using TorchLabs.Reporting;

namespace TorchLabs.Tests.Reporting;

public class MetricsTests
{
    [Fact]
    public void Evaluate_SmallCase_MatchesHandCounts()
    {
        // true:      0  0  1  1  2  2
        // predicted: 0  1  1  1  2  0
        int[] y = [0, 0, 1, 1, 2, 2];
        float[][] p =
        [
            [0.8f, 0.1f, 0.1f],
            [0.3f, 0.6f, 0.1f],
            [0.1f, 0.8f, 0.1f],
            [0.2f, 0.7f, 0.1f],
            [0.1f, 0.1f, 0.8f],
            [0.5f, 0.2f, 0.3f],
        ];
        var m = Metrics.Evaluate(y, p, 3);
        Assert.Equal(4.0 / 6, m.MicroAccuracy, 12);
        Assert.Equal((0.5 + 1.0 + 0.5) / 3, m.MacroAccuracy, 12);
        Assert.Equal(
            [
                [1L, 1, 0],
                [0, 2, 0],
                [1, 0, 1],
            ],
            m.Confusion
        ); // rows: true class
        Assert.Equal([0.5, 2.0 / 3, 1.0], m.PerClassPrecision, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([0.5, 1.0, 0.5], m.PerClassRecall, (a, b) => Math.Abs(a - b) < 1e-12);
        double logLoss =
            -(Math.Log(0.8) + Math.Log(0.3) + Math.Log(0.8) + Math.Log(0.7) + Math.Log(0.8) + Math.Log(0.3)) / 6;
        Assert.Equal(logLoss, m.LogLoss, 5);
    }
}
