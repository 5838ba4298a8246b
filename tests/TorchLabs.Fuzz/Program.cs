using TorchLabs.Fuzz;

// torchlabs-fuzz fuzz NAME the harness under AFL++ (SharpFuzz's out-of-process mode; scripts/fuzz/run.sh starts it)
// torchlabs-fuzz replay NAME FILE... each file through the harness once, printing what became of it (for triage)
// torchlabs-fuzz starting-inputs DIR writes the generated part of the corpora (how corpus/ was made)
if (args.Length >= 2 && args[0] == "fuzz" && Harnesses.All.ContainsKey(args[1]))
{
    // libtorch loaded before the fork server starts (TorchSharp is not instrumented; the harness's own code cannot run
    // before SharpFuzz has set up AFL's shared memory, which its instrumentation writes to).
    TorchSharp.torch.set_num_threads(1);
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        Harnesses.Run(args[1], ms.ToArray());
    });
    return 0;
}
if (args.Length >= 3 && args[0] == "replay" && Harnesses.All.ContainsKey(args[1]))
{
    int findings = 0;
    foreach (string file in args.Skip(2))
    {
        try
        {
            Harnesses.Run(args[1], File.ReadAllBytes(file));
            Console.WriteLine($"{file}: handled");
        }
        catch (Exception e)
        {
            findings++;
            Console.WriteLine($"{file}: FINDING {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            Console.WriteLine(string.Join('\n', (e.StackTrace ?? "").Split('\n').Take(6)));
        }
    }
    return findings == 0 ? 0 : 1;
}
if (args.Length == 2 && args[0] == "starting-inputs")
{
    StartingInputs.Write(args[1]);
    return 0;
}
Console.Error.WriteLine(
    $"usage: torchlabs-fuzz fuzz|replay NAME [FILE...] or starting-inputs DIR; NAME one of {string.Join(", ", Harnesses.All.Keys)}"
);
return 2;
