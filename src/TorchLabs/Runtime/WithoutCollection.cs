using System.Runtime;

namespace TorchLabs.Runtime;

/// <summary>
/// Runs a call during which the garbage collector does not run, where the runtime grants it. TorchSharp 0.107's
/// optimizers pass temporary Scalars (the learning rate, momentum, alpha) to libtorch by handle without keeping them
/// alive, so a collection during <c>optimizer.step()</c> (another thread's allocation is enough) can finalize one while
/// libtorch reads it: c10's "Expected false to be true" from Scalar::toDouble, seen in a CI run of the tutorial's
/// 25,000 steps. One call at a time holds the process-wide no-GC region; when it cannot be had (a larger allocation
/// ended it, or the runtime refused), the call runs as it is.
/// </summary>
public static class WithoutCollection
{
    /// <summary>The allocation the region allows: an optimizer step makes a few small wrappers per parameter.</summary>
    const long Budget = 4L << 20;

    static readonly object Gate = new();

    public static void Run(Action call)
    {
        lock (Gate)
        {
            bool region;
            try
            {
                region = GC.TryStartNoGCRegion(Budget);
            }
            catch (InvalidOperationException)
            {
                region = false;
            } // a region already held elsewhere
            try
            {
                call();
            }
            finally
            {
                if (region && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                {
                    try
                    {
                        GC.EndNoGCRegion();
                    }
                    catch (InvalidOperationException) { } // ended by an allocation beyond the budget
                }
            }
        }
    }
}
