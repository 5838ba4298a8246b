using TorchLabs.Checkpoints;

namespace TorchLabs.Optimizers;

/// <summary>
/// Base of the hand-written optimizers: used like torch.optim (zero_grad, step, a learning rate you can change,
/// per-parameter state you can inspect). Subclasses write the update rule, one line per equation, in place
/// under no_grad.
/// </summary>
public abstract class HandOptimizer : IDisposable
{
    readonly Tensor[] parameters;
    readonly Dictionary<string, Tensor>[] state;
    readonly long[] steps;

    protected HandOptimizer(IEnumerable<Tensor> parameters, double lr, double weightDecay)
    {
        this.parameters = parameters.ToArray();
        if (this.parameters.Length == 0)
            throw new ArgumentException("optimizer got an empty parameter list");
        Ranges.Lr.Require(lr, nameof(lr));
        Ranges.WeightDecay.Require(weightDecay, nameof(weightDecay));
        LearningRate = lr;
        WeightDecay = weightDecay;
        state = this.parameters.Select(_ => new Dictionary<string, Tensor>()).ToArray();
        steps = new long[this.parameters.Length];
    }

    /// <summary>The learning rate (torch's lr); may be changed between steps, as a scheduler would.</summary>
    public double LearningRate { get; set; }

    /// <summary>L2 penalty folded into the gradient as torch does: g = g + weight_decay * p.</summary>
    public double WeightDecay { get; }

    public IReadOnlyList<Tensor> Parameters => parameters;

    /// <summary>The state of parameter <paramref name="index"/> (buffers such as momentum_buffer, exp_avg,
    /// sum).</summary>
    public IReadOnlyDictionary<string, Tensor> StateOf(int index) => state[index];

    /// <summary>Clears the gradients (torch's zero_grad with set_to_none=True).</summary>
    public void zero_grad() => ClearGradients(parameters);

    /// <summary>Sets every parameter's gradient to none, disposing the wrapper the getter made.</summary>
    internal static void ClearGradients(IEnumerable<Tensor> parameters)
    {
        foreach (var p in parameters)
        {
            var g = p.grad;
            if (g is null)
                continue;
            p.grad = null;
            g.Dispose();
        }
    }

    /// <summary>Called before the gradient of the next step is computed: moves the parameters to where that gradient is
    /// to be taken (Nesterov's look-ahead form); nothing for the others.</summary>
    public virtual void BeforeGradient() { }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void step()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            using var grad = p.grad;
            if (grad is null)
                continue;
            steps[i]++;
            using var scope = NewDisposeScope();
            var g = WeightDecay != 0 ? grad.Add(p, WeightDecay) : grad;
            Update(p, g, state[i], steps[i]);
        }
    }

    /// <summary>The update of one parameter <paramref name="p"/> with gradient <paramref name="g"/> at step <paramref
    /// name="t"/> (1-based).</summary>
    protected abstract void Update(Tensor p, Tensor g, Dictionary<string, Tensor> s, long t);

    /// <summary>The state buffer <paramref name="name"/>, created by <paramref name="init"/> on first use (kept outside
    /// any dispose scope).</summary>
    protected static Tensor Buffer(Dictionary<string, Tensor> s, string name, Func<Tensor> init)
    {
        if (!s.TryGetValue(name, out var b))
        {
            b = init().DetachFromDisposeScope();
            s[name] = b;
        }
        return b;
    }

    /// <summary>Writes the step counts and every state buffer (for checkpoints).</summary>
    /// <summary>How a training loop calls this optimizer and saves its state (<see cref="OptimizerHooks"/>).</summary>
    public OptimizerHooks Hooks() => new(zero_grad, step, SaveState, LoadState, lr => LearningRate = lr);

    public void SaveState(BinaryWriter w)
    {
        w.Write(parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            w.Write(steps[i]);
            w.Write(state[i].Count);
            foreach (var (name, t) in state[i].OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.Write(name);
                Checkpoints.Checkpoint.WriteTensor(w, t);
            }
        }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote; the parameter count must match.</summary>
    public void LoadState(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n != parameters.Length)
            throw new FormatException($"optimizer state for {n} parameters, expected {parameters.Length}");
        for (int i = 0; i < n; i++)
        {
            steps[i] = r.ReadInt64();
            foreach (var t in state[i].Values)
                t.Dispose();
            state[i].Clear();
            int count = r.ReadInt32();
            for (int k = 0; k < count; k++)
            {
                string name = r.ReadString();
                state[i][name] = Checkpoints.Checkpoint.ReadTensor(r).DetachFromDisposeScope();
            }
        }
    }

    public void Dispose()
    {
        foreach (var s in state)
        foreach (var t in s.Values)
            t.Dispose();
        GC.SuppressFinalize(this);
    }
}
