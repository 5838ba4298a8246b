using Microsoft.ML;
using Microsoft.ML.Data;

namespace TorchLabs.Reporting;

/// <summary>Multiclass metrics from Microsoft.ML's evaluator (an implementation independent of ours).</summary>
/// <param name="Confusion">Counts: row = true class, column = predicted class.</param>
public sealed record ClassificationMetrics(
    double MicroAccuracy,
    double MacroAccuracy,
    double LogLoss,
    double[] PerClassPrecision,
    double[] PerClassRecall,
    long[][] Confusion
)
{
    public double MacroPrecision => PerClassPrecision.Average();
    public double MacroRecall => PerClassRecall.Average();
}

public static class Metrics
{
    sealed class Row
    {
        public uint Label { get; set; }

        [VectorType]
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }

    /// <summary>
    /// Evaluates predictions with MLContext.MulticlassClassification.Evaluate.
    /// <paramref name="probabilities"/>[i] holds the class probabilities of sample i; the prediction is their argmax.
    /// </summary>
    public static ClassificationMetrics Evaluate(int[] labels, float[][] probabilities, int classCount)
    {
        if (labels.Length != probabilities.Length)
            throw new ArgumentException("one probability vector per label");
        var ml = new MLContext(seed: 0);
        var rows = labels.Select(
            (y, i) =>
                new Row
                {
                    // Class indices as they are: with the key type set through the schema definition, ML.NET's
                    // evaluator reads the raw uint as the class index (measured; +1 shifted every row of the confusion
                    // matrix).
                    Label = (uint)y,
                    Score = probabilities[i],
                    PredictedLabel = (uint)ArgMax(probabilities[i]),
                }
        );
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), classCount);
        schema[nameof(Row.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), classCount);
        schema[nameof(Row.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, classCount);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var m = ml.MulticlassClassification.Evaluate(
            data,
            nameof(Row.Label),
            nameof(Row.Score),
            nameof(Row.PredictedLabel)
        );
        var cm = m.ConfusionMatrix;
        long[][] counts = cm.Counts.Select(r => r.Select(c => (long)Math.Round(c)).ToArray()).ToArray();
        return new ClassificationMetrics(
            m.MicroAccuracy,
            m.MacroAccuracy,
            m.LogLoss,
            [.. cm.PerClassPrecision],
            [.. cm.PerClassRecall],
            counts
        );
    }

    public static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
            if (v[i] > v[best])
                best = i;
        return best;
    }
}
