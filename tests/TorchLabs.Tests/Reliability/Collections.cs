namespace TorchLabs.Tests.Reliability;

/// <summary>Tests that measure the whole process's memory (managed after a forced collection, and resident): they run
/// alone, after the parallel ones, since another test's allocations in the same process would count as
/// theirs.</summary>
[CollectionDefinition(ProcessMemory.Name, DisableParallelization = true)]
public sealed class ProcessMemory
{
    public const string Name = "measures the process's memory";
}

/// <summary>Tests that run TorchSharp's optimizers step by step and compare every step: they run alone, after the
/// parallel ones. TorchSharp 0.107's optimizers pass temporary Scalars that a collection caused by another thread can
/// finalize mid-step (docs/conformance.md); the no-GC guard holds only while other threads' allocations stay within its
/// budget, and with the whole suite running they sometimes did not (one of three full runs on 2026-12-05).</summary>
[CollectionDefinition(TorchSharpSteps.Name, DisableParallelization = true)]
public sealed class TorchSharpSteps
{
    public const string Name = "TorchSharp's optimizer steps, compared step by step";
}
