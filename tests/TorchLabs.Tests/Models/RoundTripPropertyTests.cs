using CsCheck;
using TorchLabs.Checkpoints;
using TorchLabs.Fast;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Optimizers;
using TorchLabs.Runtime;
using TorchLabs.Sweeps;
using static TorchSharp.torch;

namespace TorchLabs.Tests.Models;

/// <summary>
/// Property tests (CsCheck, a fixed seed and one thread, so every run draws the same cases): what TorchLabs writes, it
/// reads back bit for bit, over random shapes (empty and zero-size dimensions included), dtypes, strided views and
/// storage shared between tensors; and the settings' values parse back to what was formatted.
/// </summary>
public class RoundTripPropertyTests
{
    const string Seed = "0000000000a1";
    static readonly ScalarType[] Dtypes =
    [
        ScalarType.Float32,
        ScalarType.Float64,
        ScalarType.Float16,
        ScalarType.BFloat16,
        ScalarType.Int64,
        ScalarType.Int32,
        ScalarType.Int16,
        ScalarType.Int8,
        ScalarType.Byte,
        ScalarType.Bool,
    ];

    /// <summary>One tensor case: its shape, dtype, the seed of its values, and whether it is a transposed or a sliced
    /// view of a larger tensor, or shares the previous tensor's storage.</summary>
    sealed record Case(long[] Shape, ScalarType Dtype, ulong Values, int View);

    static readonly Gen<Case> CaseGen =
        from rank in Gen.Int[0, 3]
        from shape in Gen.Long[0, 4].Array[rank]
        from dtypeIndex in Gen.Int[0, Dtypes.Length - 1]
        from values in Gen.ULong
        from view in Gen.Int[0, 3]
        select new Case(shape, Dtypes[dtypeIndex], values, view);

    /// <summary>The tensors of the cases: 0 plain, 1 a transposed view, 2 a slice of a larger tensor, 3 a view of the
    /// previous tensor's storage (its flat first elements).</summary>
    static Dictionary<string, Tensor> Tensors(Case[] cases)
    {
        var d = new Dictionary<string, Tensor>();
        Tensor? previous = null;
        for (int i = 0; i < cases.Length; i++)
        {
            var c = cases[i];
            using var g = new Generator(c.Values);
            var raw = randint(-100, 100, c.Shape.Length == 0 ? [] : [.. c.Shape], ScalarType.Int64, generator: g);
            Tensor t = (raw.to_type(ScalarType.Float64) / 7).to_type(c.Dtype);
            if (c.View == 1 && t.dim() >= 2)
                t = t.transpose(0, 1).contiguous().transpose(0, 1);
            else if (c.View == 2 && t.dim() >= 1)
                t = cat([t, t], 0).narrow(0, t.shape[0], t.shape[0]);
            else if (c.View == 3 && previous is not null && previous.dtype == c.Dtype && previous.numel() >= t.numel())
                t = previous.flatten().narrow(0, 0, t.numel()).view(c.Shape);
            d[$"layer{i}.weight"] = t;
            previous = t;
        }
        return d;
    }

    static void SameBits(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (k, e) in expected)
        {
            var a = actual[k];
            Assert.Equal(e.dtype, a.dtype);
            Assert.Equal(e.shape, a.shape);
            Assert.Equal(e.contiguous().bytes.ToArray(), a.contiguous().bytes.ToArray());
        }
    }

    [Fact]
    public void PthAndSafetensors_SaveThenRead_GiveTheSameBits() =>
        CaseGen
            .Array[1, 5]
            .Sample(
                cases =>
                {
                    using var scope = NewDisposeScope();
                    var tensors = Tensors(cases);
                    string path = Path.Combine(TestEnvironment.NewTempDir(), "model");
                    ModelFiles.SaveTensors(tensors, path);
                    SameBits(tensors, ModelFiles.Read(path + ".pth"));
                    SameBits(tensors, ModelFiles.Read(path + ".safetensors"));
                },
                seed: Seed,
                iter: 60,
                threads: 1
            );

    [Fact]
    public void TorchSharpDat_SaveThenLoad_GivesTheSameParameters() =>
        Gen.Int[1, 6]
            .Array[1, 4]
            .Select(Gen.ULong)
            .Sample(
                t =>
                {
                    var (widths, values) = t;
                    using var scope = NewDisposeScope();
                    nn.Module Net(ulong seed)
                    {
                        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
                        int fanIn = 3;
                        for (int i = 0; i < widths.Length; i++)
                        {
                            layers.Add(($"fc{i}", nn.Linear(fanIn, widths[i])));
                            fanIn = widths[i];
                        }
                        var net = nn.Sequential(layers);
                        using var g = new Generator(seed);
                        using (no_grad())
                            foreach (var p in net.parameters())
                                p.uniform_(-1, 1, g);
                        return net;
                    }
                    using var saved = Net(values);
                    string path = Path.Combine(TestEnvironment.NewTempDir(), "net.dat");
                    saved.save(path);
                    using var loaded = Net(values + 1);
                    ModelFiles.Load(loaded, path, "the net");
                    SameBits(saved.state_dict(), loaded.state_dict());
                },
                seed: Seed,
                iter: 30,
                threads: 1
            );

    [Fact]
    public void Checkpoint_WriteThenRead_GivesTheSameRecordModelOptimizerAndGenerator() =>
        Gen.Double[0.001, 10]
            .Array[0, 5]
            .Select(Gen.String.Array[0, 3], Gen.ULong)
            .Sample(
                t =>
                {
                    var (losses, log, seed) = t;
                    using var scope = NewDisposeScope();
                    var model = nn.Linear(3, 2);
                    using var sgd = new FlatSgd([.. model.parameters()], 0.1, 0.9);
                    using var generator = new Generator(seed);
                    _ = randperm(10, generator: generator);
                    var record = new TrainingRecord
                    {
                        Settings = [new(Setting.Of("seed"), "1")],
                        LearningRate = 0.1,
                        KeepsTimes = true,
                    };
                    foreach (double l in losses)
                        record.EndEpoch(l, l / 2);
                    record.Log.AddRange(log);
                    if (losses.Length == 0)
                        record.EndEpoch(1, 1);
                    string path = Path.Combine(TestEnvironment.NewTempDir(), "checkpoint.dat");
                    TorchLabs.Checkpoints.Checkpoint.Save(path, "test", w =>
                        record.Write(w, generator, model, sgd.Hooks())
                    );
                    var model2 = nn.Linear(3, 2);
                    using var sgd2 = new FlatSgd([.. model2.parameters()], 0.1, 0.9);
                    using var generator2 = new Generator(seed + 1);
                    var back = Checkpoint.Load(path, "test", r =>
                        TrainingRecord.Read(
                            r,
                            path,
                            [new(Setting.Of("seed"), "1")],
                            true,
                            generator2,
                            model2,
                            sgd2.Hooks()
                        )
                    );
                    Assert.Equal(record.EpochLoss, back.EpochLoss);
                    Assert.Equal(record.EpochSeconds, back.EpochSeconds);
                    Assert.Equal(record.Log, back.Log);
                    SameBits(model.state_dict(), model2.state_dict());
                    long[] next = randperm(10, generator: generator).data<long>().ToArray();
                    Assert.Equal(next, randperm(10, generator: generator2).data<long>().ToArray());
                },
                seed: Seed,
                iter: 40,
                threads: 1
            );

    [Fact]
    public void SchedulerNumbers_FormattedThenParsed_AreTheSameDouble() =>
        Gen.Double[1e-300, 1e300]
            .Sample(
                gamma =>
                {
                    string text = gamma.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
                    var s = SchedulerConformance.Parse("StepLR", ["step_size=3", "gamma=" + text]);
                    Assert.Equal(gamma, s.Num("gamma", double.NaN));
                },
                seed: Seed,
                iter: 500,
                threads: 1
            );

    [Fact]
    public void GridValues_EscapedThenSplit_AreTheSameValues() =>
        Gen.String[Gen.Char["a,\\ 1.-x"], 1, 6]
            .Where(v => v.Trim() == v && v.Length > 0)
            .Array[1, 5]
            .Sample(
                values =>
                {
                    string text = string.Join(",", values.Select(v => v.Replace("\\", "\\\\").Replace(",", "\\,")));
                    Assert.Equal(values, SweepPlan.SplitGridValues(text));
                },
                seed: Seed,
                iter: 500,
                threads: 1
            );
}
