namespace TorchLabs.Runtime;

/// <summary>
/// The words of ‹impl›, each with one meaning in every command: which implementation of the mathematics runs.
/// </summary>
public static class Impl
{
    /// <summary>What a TorchSharp user writes: modules, autograd, TorchSharp's optimizers (every default
    /// path).</summary>
    public const string Torch = "torch";

    /// <summary>The course's hand-written derivations: backwards as custom autograd Functions, optimizers written
    /// out.</summary>
    public const string Hand = "hand";

    /// <summary>The pure C# reference, no TorchSharp: double[] and the notes' formulas.</summary>
    public const string Reference = "reference";

    /// <summary>Hand-written for speed, opt-in (src/TorchLabs/Fast/), proven equal to <see cref="Torch"/>.</summary>
    public const string Fast = "fast";

    /// <summary>Every implementation the command has, side by side.</summary>
    public const string All = "all";

    /// <summary>Words ‹impl› (or fashion-mnist's ‹backward›) took before, and the word that means the same
    /// now.</summary>
    static readonly Dictionary<string, string> Renamed = new() { ["autograd"] = Torch, ["both"] = All };

    /// <summary><paramref name="value"/> when it is one of <paramref name="allowed"/>; else <see
    /// cref="UsageException"/>, with a hint naming the new word for an old one.</summary>
    public static string Require(string value, params string[] allowed) =>
        Problem(value, allowed) is string problem ? throw new UsageException(problem) : value;

    /// <summary>Why <paramref name="value"/> is not one of <paramref name="allowed"/> (the message, settings marked),
    /// or null.</summary>
    public static string? Problem(string? value, params string[] allowed)
    {
        if (value is not null && allowed.Contains(value))
            return null;
        string expected = $"expected {string.Join(", ", allowed.SkipLast(1))} or {allowed[^1]}";
        return value is not null && Renamed.TryGetValue(value, out string? now) && allowed.Contains(now)
            ? $"‹impl› {Printable.Quote(value)} is now ‹impl› {now} (one word per idea in every command); {expected}"
            : $"‹impl› {Printable.Quote(value)}: {expected}";
    }
}
