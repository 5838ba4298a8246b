using System.Text;
using TorchLabs.Checkpoints;
using TorchLabs.Data;
using TorchLabs.Fast;
using TorchLabs.Labs;
using TorchLabs.Models;
using TorchLabs.Runtime;
using TorchLabs.Sweeps;
using static TorchSharp.torch;

namespace TorchLabs.Fuzz;

/// <summary>
/// One harness per parser of untrusted input. Each takes the fuzzer's bytes as the file (or text) a user could hand
/// TorchLabs and calls the entry point the CLI calls. The invariant (docs/reliability.md, "Fuzzing"): every input ends
/// in success or in the project's bad-input error (<see cref="UsageException"/>: exit 2 and one line), within a second
/// and within the managed heap limit the fuzzing script sets; any other exception, a crash or a hang is a finding.
/// </summary>
public static class Harnesses
{
    /// <summary>The harnesses by name; the corpus of each is tests/TorchLabs.Fuzz/corpus/NAME/.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["model"] = Model,
        ["checkpoint"] = CheckpointFile,
        ["cifar"] = CifarBatch,
        ["idx"] = IdxFile,
        ["image"] = Image,
        ["sweep"] = SweepPlanFile,
        ["result"] = SweepResult,
        ["set"] = SchedulerSettings,
        ["grid"] = GridValues,
        ["gradcheck"] = GradCheckOptionsAndShapes,
        ["checkpoint-link"] = CheckpointBehindALink,
    };

    /// <summary>Runs <paramref name="harness"/> on <paramref name="data"/>; the bad-input error counts as a handled
    /// input.</summary>
    public static void Run(string harness, byte[] data)
    {
        using var scope = NewDisposeScope();
        try
        {
            All[harness](data);
        }
        catch (UsageException) { }
    }

    static readonly string Scratch = Directory.CreateTempSubdirectory("torchlabs-fuzz-").FullName;

    /// <summary>The bytes as a file named <paramref name="name"/> in this process's scratch folder.</summary>
    static string AsFile(byte[] data, string name)
    {
        string path = Path.Combine(Scratch, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>A model file (.pth zip or legacy pickle, safetensors, TorchSharp's .dat) loaded into the tutorial's
    /// Net, as <c>predict --model</c> and <c>cifar10 --load</c> do.</summary>
    static void Model(byte[] data)
    {
        using var net = new CifarNet(new Generator(0));
        ModelFiles.Load(net, AsFile(data, "model"), "the tutorial's Net");
    }

    /// <summary>A training checkpoint whose body is the input (the header, length and SHA-256 made right, so the fuzzer
    /// reaches the body's reader: settings, curves, log, generator state, model and optimizer).</summary>
    static void CheckpointFile(byte[] data)
    {
        string path = Path.Combine(Scratch, "checkpoint.dat");
        Checkpoint.Save(path, "fuzz", w => w.Write(data));
        using var model = nn.Linear(2, 1);
        using var sgd = new FlatSgd([.. model.parameters()], 0.1, 0.9);
        using var generator = new Generator(1);
        Checkpoint.Load(path, "fuzz", r =>
            TrainingRecord.Read(
                r,
                path,
                [new(Setting.Of("seed"), "1")],
                keepsTimes: true,
                generator,
                model,
                sgd.Hooks()
            )
        );
    }

    /// <summary>A CIFAR-10 binary batch file.</summary>
    static void CifarBatch(byte[] data) => Cifar10.ReadBatch(AsFile(data, "data_batch_1.bin"));

    /// <summary>An IDX file (Fashion-MNIST), gzipped or not, as images and as labels.</summary>
    static void IdxFile(byte[] data)
    {
        string path = AsFile(data, "train-images-idx3-ubyte.gz");
        try
        {
            Idx.Read(path, 2051);
        }
        finally
        {
            Idx.Read(path, 2049);
        }
    }

    /// <summary>An image for <c>predict</c>: the PNG/JPEG header check, the size limit and the decoding.</summary>
    static void Image(byte[] data) => PredictLab.Decode(AsFile(data, "image.png"));

    /// <summary>A sweep folder's plan (sweep.json), then its collect.</summary>
    static void SweepPlanFile(byte[] data)
    {
        string dir = Path.Combine(Scratch, "sweep-plan");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "sweep.json"), data);
        SweepCollect.Collect(dir);
    }

    /// <summary>A trial's result.json in a sweep of each lab, collected.</summary>
    static void SweepResult(byte[] data)
    {
        foreach (string lab in SweepPlan.Labs)
        {
            string dir = Path.Combine(Scratch, "sweep-" + lab);
            var plan = SweepPlan.Expand(lab, new Dictionary<string, string[]>(), [1], []);
            Directory.CreateDirectory(SweepPlan.TrialDir(dir, plan.Trials[0]));
            File.WriteAllText(Path.Combine(dir, "sweep.json"), plan.ToJson());
            File.WriteAllBytes(Path.Combine(SweepPlan.TrialDir(dir, plan.Trials[0]), "result.json"), data);
            // this plan's result: the parser is reached
            SweepPlan.WriteEntry(dir, plan, plan.Trials[0], SweepPlan.Hash(dir));
            SweepCollect.Collect(dir);
        }
    }

    /// <summary>
    /// GradCheck's options and a Search's shapes from bytes: the first eight doubles are Eps, Atol, Rtol and NondetTol,
    /// Low and High, two dimensions; then flags and counts (fast mode, undefined-grad test, grad dtypes, MaxPrinted,
    /// Trials). A check of sin and a short search run with them; an option out of range is an ArgumentException naming
    /// it, which counts as handled.
    /// </summary>
    static void GradCheckOptionsAndShapes(byte[] data)
    {
        var bytes = new byte[80];
        data.AsSpan(0, Math.Min(data.Length, bytes.Length)).CopyTo(bytes);
        double D(int i) => BitConverter.ToDouble(bytes, 8 * i);
        var o = new TorchLabs.Gradients.GradCheckOptions
        {
            Eps = D(0),
            Atol = D(1),
            Rtol = D(2),
            NondetTol = D(3),
            FastMode = (bytes[64] & 1) != 0,
            CheckUndefinedGrad = (bytes[64] & 2) != 0,
            CheckGradDtypes = (bytes[64] & 4) != 0,
            MaxPrinted = (sbyte)bytes[65],
        };
        long[] shape = [(long)(sbyte)bytes[66] % 4, (long)(sbyte)bytes[67] % 4];
        try
        {
            using var x = randn([2], ScalarType.Float64, generator: new Generator(1)).requires_grad_(true);
            TorchLabs.Gradients.GradCheck.Check(v => [v[0].sin()], [x], o);
            TorchLabs.Gradients.GradCheck.Search(
                v => [v[0].sin()],
                [shape],
                new TorchLabs.Gradients.SearchOptions
                {
                    Trials = (sbyte)bytes[68] % 4,
                    Low = D(4),
                    High = D(5),
                    Check = o,
                    ShrinkBudget = 4,
                }
            );
        }
        catch (ArgumentException) { }
    }

    /// <summary>A checkpoint.dat that is a link, to the bytes as a file or, by the first byte, to a FIFO, a directory,
    /// /dev/zero, itself, or nothing: the checkpoint opener follows links and refuses what is not a regular file,
    /// without blocking.</summary>
    static void CheckpointBehindALink(byte[] data)
    {
        string dir = Path.Combine(Scratch, "checkpoint-link");
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        string link = Path.Combine(dir, "checkpoint.dat"),
            target = Path.Combine(dir, "target");
        switch (data.Length == 0 ? 0 : data[0] % 6)
        {
            case 0:
                File.WriteAllBytes(target, data);
                break;
            case 1:
                mkfifo(target, 0x180);
                break;
            case 2:
                Directory.CreateDirectory(target);
                break;
            case 3:
                target = "/dev/zero";
                break;
            case 4:
                target = link;
                break;
            default:
                target = Path.Combine(dir, "missing");
                break;
        }
        File.CreateSymbolicLink(link, target);
        using var model = nn.Linear(2, 1);
        using var sgd = new FlatSgd([.. model.parameters()], 0.1, 0.9);
        using var generator = new Generator(1);
        Checkpoint.Load(link, "fuzz", r =>
            TrainingRecord.Read(
                r,
                link,
                [new(Setting.Of("seed"), "1")],
                keepsTimes: true,
                generator,
                model,
                sgd.Hooks()
            )
        );
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int mkfifo(string path, uint mode);

    /// <summary><c>conformance scheduler NAME --set KEY=VALUE …</c>: the first line names the scheduler, each further
    /// line is one --set item.</summary>
    /// <summary>
    /// A <c>--grid KEY=V1,V2,…</c> value list (<see cref="SweepPlan.SplitGridValues"/>) and the plan made from it. Also
    /// a property: the values, written back with <c>\,</c> and <c>\\</c> escaped and joined by commas, split into the
    /// same values.
    /// </summary>
    static void GridValues(byte[] data)
    {
        string[] values = SweepPlan.SplitGridValues(Encoding.UTF8.GetString(data));
        string joined = string.Join(",", values.Select(v => v.Replace("\\", "\\\\").Replace(",", "\\,")));
        if (!SweepPlan.SplitGridValues(joined).SequenceEqual(values))
            throw new InvalidOperationException($"grid values do not round-trip: {string.Join(" | ", values)}");
        SweepPlan.Expand("optimizers", new Dictionary<string, string[]> { ["lr"] = values }, [1], []);
    }

    static void SchedulerSettings(byte[] data)
    {
        string[] lines = Encoding.UTF8.GetString(data).Split('\n');
        SchedulerConformance.Parse(SchedulerConformance.Name(lines[0]), lines.Skip(1));
    }
}
