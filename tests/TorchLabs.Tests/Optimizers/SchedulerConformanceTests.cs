using System.Text.Json;
using TorchLabs.Labs;
using TorchLabs.Reference;
using TorchLabs.Runtime;
using TorchLabs.Tests.Reliability;
using Xunit.Abstractions;

namespace TorchLabs.Tests.Optimizers;

/// <summary>
/// #28, schedulers: the hand references of torch.optim.lr_scheduler against PyTorch 1.13's learning rates and momenta
/// (scripts/golden/sched_conformance.py: 38 schedules over at least three periods), and TorchSharp 0.107's schedulers
/// against the references. Tolerance 1e-12 relative at every step.
/// </summary>
[Collection(TorchSharpSteps.Name)]
public class SchedulerConformanceTests(ITestOutputHelper output)
{
    public sealed record GoldenSchedule(
        string Scheduler,
        SchedSettings Settings,
        string Text,
        int Steps,
        double Momentum,
        double[] Lr,
        double[] Momenta
    )
    {
        public override string ToString() => $"{Scheduler}({Text})";
    }

    static object Value(JsonElement v) =>
        v.ValueKind switch
        {
            JsonValueKind.String when v.GetString()!.StartsWith("λ:") => SchedulerConformance.Lambdas[
                v.GetString()![2..]
            ],
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Array when v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Array) => (IReadOnlyList<(
                string,
                SchedSettings
            )>)
                [.. v.EnumerateArray().Select(e => (e[0].GetString()!, Settings(e[1])))],
            JsonValueKind.Array => v.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            _ => v.GetDouble(),
        };

    static SchedSettings Settings(JsonElement o) =>
        new(o.EnumerateObject().ToDictionary(p => p.Name, p => Value(p.Value)));

    static readonly Lazy<List<GoldenSchedule>> Golden = new(() =>
    {
        using var doc = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "sched_conformance.json"))
        );
        return
        [
            .. doc
                .RootElement.GetProperty("cases")
                .EnumerateArray()
                .Select(c => new GoldenSchedule(
                    c.GetProperty("scheduler").GetString()!,
                    Settings(c.GetProperty("settings")),
                    c.GetProperty("settings").GetRawText().Replace("\n", "").Replace("  ", ""),
                    c.GetProperty("steps").GetInt32(),
                    c.GetProperty("momentum").GetDouble(),
                    c.GetProperty("lr").EnumerateArray().Select(GoldenNumbers.Number).ToArray(),
                    c.GetProperty("momentums").EnumerateArray().Select(GoldenNumbers.Number).ToArray()
                )),
        ];
    });

    /// <summary>What PyTorch accepts at construction and then raises on (the golden file's "refused"): refused before
    /// any step.</summary>
    [Fact]
    public void Parse_RefusesWhatPyTorchRaisesOnLater()
    {
        using var doc = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "sched_conformance.json"))
        );
        var refused = doc.RootElement.GetProperty("refused").EnumerateArray().ToList();
        Assert.NotEmpty(refused);
        foreach (var r in refused)
        {
            string[] items =
            [
                .. r.GetProperty("settings").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetRawText()}"),
            ];
            var e = Assert.Throws<UsageException>(() =>
                SchedulerConformance.Parse(r.GetProperty("scheduler").GetString()!, items)
            );
            output.WriteLine(
                $"{r.GetProperty("error").GetString()} at step {r.GetProperty("step")}; here: {e.Message}"
            );
        }
    }

    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden.Value.Count; i++)
            data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reference_EqualsPyTorch113(int index)
    {
        var c = Golden.Value[index];
        var r = SchedulerConformance.RunReference(new(c.Scheduler, c.Settings, 0.1, c.Momentum, c.Steps));
        var (lrMax, lrFirst) = SchedulerConformance.Compare(r.Lr, c.Lr);
        var (mMax, mFirst) = SchedulerConformance.Compare(r.Momentum, c.Momenta);
        output.WriteLine($"{c}: lr {lrMax:E1}, momentum {mMax:E1}");
        Assert.True(
            lrFirst is null,
            $"{c}: lr differs from PyTorch from step {lrFirst}: {r.Lr[lrFirst ?? 0]} vs {c.Lr[lrFirst ?? 0]}"
        );
        Assert.True(
            mFirst is null,
            $"{c}: momentum differs from step {mFirst}: {r.Momentum[mFirst ?? 0]} vs {c.Momenta[mFirst ?? 0]}"
        );
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TorchSharp_AgreesWithTheReference_OrDiffersAsKnown(int index)
    {
        var c = Golden.Value[index];
        var r = SchedulerConformance.RunReference(new(c.Scheduler, c.Settings, 0.1, c.Momentum, c.Steps));
        var t = SchedulerConformance.RunTorchSharp(new(c.Scheduler, c.Settings, 0.1, c.Momentum, c.Steps));
        var known = SchedulerConformance.KnownDifferences(c.Scheduler, c.Settings);
        foreach (var (quantity, mine, theirs) in new[] { ("lr", t.Lr, r.Lr), ("momentum", t.Momentum, r.Momentum) })
        {
            var (max, first) = SchedulerConformance.Compare(mine, theirs);
            output.WriteLine($"{c}: {quantity}, TorchSharp vs reference {max:E1}, first step above 1e-12: {first}");
            var difference = known.FirstOrDefault(k => k.Quantity == quantity);
            Assert.True(
                difference?.FirstStep == first,
                $"{c}: {quantity} first differs at {first}; known: {difference?.FirstStep}"
            );
            if (difference is not null)
                Assert.True(max > 1e-2, $"{c}: {quantity} differs by only {max:E1}");
        }
        // The cause, put into the reference's formula, gives TorchSharp's numbers exactly.
        if (known.Count > 0)
        {
            var (lr, momentum) = AsTorchSharp(c);
            Assert.Null(SchedulerConformance.Compare(t.Lr, lr).First);
            Assert.Null(SchedulerConformance.Compare(t.Momentum, momentum).First);
        }
    }

    /// <summary>TorchSharp's schedule from its causes: MultiStepLR with γ once per distinct milestone; CyclicLR with
    /// m = m_max + (m_max − m_base)·scale·f and f at the cycle for exp_range.</summary>
    static (double[] Lr, double[] Momentum) AsTorchSharp(GoldenSchedule c)
    {
        var s = c.Settings;
        var steps = Enumerable.Range(0, c.Steps + 1).ToArray();
        if (c.Scheduler == "MultiStepLR")
        {
            int[] distinct = [.. s.Ints("milestones").Distinct()];
            return (
                [.. steps.Select(t => 0.1 * Math.Pow(s.Num("gamma", 0.1), distinct.Count(m => m <= t)))],
                [.. steps.Select(_ => c.Momentum)]
            );
        }
        double baseLr = s.Num("base_lr", 0),
            maxLr = s.Num("max_lr", 0),
            up = s.Num("step_size_up", 2000);
        double down = s.Given.ContainsKey("step_size_down") ? s.Num("step_size_down", 0) : up,
            total = up + down,
            ratio = up / total;
        double mBase = s.Num("base_momentum", 0.8),
            mMax = s.Num("max_momentum", 0.9),
            γ = s.Num("gamma", 1.0);
        string mode = s.Text("mode", "triangular");
        double F(double x) =>
            mode switch
            {
                "triangular" => 1.0,
                "triangular2" => 1 / Math.Pow(2.0, x - 1),
                _ => Math.Pow(γ, x),
            };
        var lr = new double[steps.Length];
        var momentum = new double[steps.Length];
        foreach (int t in steps)
        {
            double cycle = Math.Floor(1 + t / total),
                x = 1.0 + t / total - cycle,
                scale = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
            lr[t] = baseLr + (maxLr - baseLr) * scale * F(cycle);
            momentum[t] = s.Flag("cycle_momentum", true) ? mMax + (mMax - mBase) * scale * F(cycle) : c.Momentum;
        }
        return (lr, momentum);
    }
}

/// <summary>#28, item 4: the scheduler reference as a drop-in on a TorchSharp optimizer gives PyTorch's
/// schedule.</summary>
public class ReferenceLRTests
{
    [Fact]
    public void CyclicLR_DropIn_GivesPyTorchsLearningRateAndMomentum()
    {
        using var p = new TorchSharp.Modules.Parameter(TorchSharp.torch.zeros(2));
        using var opt = TorchSharp.torch.optim.SGD([p], 0.1, 0.9);
        var settings = SchedulerConformance.Parse("CyclicLR", ["base_lr=0.01", "max_lr=0.1", "step_size_up=3"]);
        var sched = new TorchLabs.Optimizers.ReferenceLR(opt, "CyclicLR", settings);
        // equal to PyTorch's golden above
        var expected = SchedulerConformance.RunReference(new("CyclicLR", settings, 0.1, 0.9, 12));
        var group = opt.ParamGroups.First();
        for (int t = 0; t <= 12; t++)
        {
            if (t > 0)
            {
                opt.step();
                sched.step();
            }
            Assert.Equal(expected.Lr[t], group.LearningRate, 15);
            Assert.Equal(expected.Momentum[t], ((TorchSharp.torch.optim.IMomentum)group).Momentum, 15);
        }
    }

    [Theory]
    [InlineData("StepLR", new[] { "step_size=2", "step_size=3" }, "--set step_size: given twice")]
    [InlineData("ConstantLR", new[] { "factor=0" }, "ConstantLR: factor=0 is divided by at total_iters")]
    [InlineData(
        "OneCycleLR",
        new[] { "max_lr=0.1", "epochs=100000", "steps_per_epoch=100000" },
        "more than 2147483647 steps"
    )]
    public void Parse_RefusesWhatPyTorchRefusesOrCannotRun(string name, string[] items, string expected) =>
        Assert.Contains(
            expected,
            TestEnvironment.AsShown(Assert.Throws<UsageException>(() => SchedulerConformance.Parse(name, items)))
        );

    [Fact]
    public void Compare_BothSidesOverflowingAlike_Agree_AndAOneSidedOverflowDiffers()
    {
        double[][] inf =
        [
            [1.0, double.PositiveInfinity],
            [double.NaN, 2.0],
        ];
        Assert.Equal(
            (0.0, (int?)null),
            Conformance.Compare(
                inf,
                [
                    [1.0, double.PositiveInfinity],
                    [double.NaN, 2.0],
                ]
            )
        );
        Assert.Equal(
            1,
            Conformance
                .Compare(
                    inf,
                    [
                        [1.0, double.PositiveInfinity],
                        [3.0, 2.0],
                    ]
                )
                .First
        );
    }
}
