using TorchLabs.Cli;

try
{
    NativeAllocator.ReexecuteIfWanted(args); // returns only when this process keeps its allocator
}
catch (UsageException e)
{
    Console.Error.WriteLine($"torchlabs: {Printable.Escape(TorchLabs.Cli.Commands.Outcome.Flags(e.Template), 600)}");
    return Cli.BadInput;
}

// One thread runs TorchSharp here: the no-GC guard may keep its region and collect between calls (WithoutCollection).
WithoutCollection.OneTorchThread = true;
return Cli.Run(args);
