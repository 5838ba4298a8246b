using System.Runtime;

namespace TorchLabs.Runtime;

/// <summary>
/// Runs a call during which the garbage collector does not run, where the runtime grants it. TorchSharp 0.107's
/// optimizers pass temporary Scalars (the learning rate, momentum, alpha) to libtorch by handle without keeping them
/// alive, so a collection during <c>optimizer.step()</c> (another thread's allocation is enough) can finalize one while
/// libtorch reads it: c10's "Expected false to be true" from Scalar::toDouble, seen in a CI run of the tutorial's
/// 25,000 steps.
/// </summary>
/// <remarks>
/// The no-GC region is process-wide. Starting one per call, as this class first did, cost the tutorial's default step
/// a fifth of its speed (docs/performance.md): the collection that starts a region frees nothing, so between calls the
/// garbage of every step stayed, and no ordinary collection came to clear it. So a region is kept from call to call
/// and renewed only when none is in force, when another thread calls, or when this thread has used all but <see
/// cref="Headroom"/> of its <see cref="Budget"/>. With <see cref="CollectOnRenewal"/>, renewing also collects the young
/// generation, between calls, which frees that garbage. One call at a time; when no region can be had, the call runs
/// as it is.
/// </remarks>
public static class WithoutCollection
{
    /// <summary>The allocation one region allows. Small on purpose: the young generation then stays in the caches
    /// (an optimizer step of the tutorial's Net allocates about 6 KB, its whole training step about 15 KB).</summary>
    const long Budget = 2L << 20;

    /// <summary>What a call must find left of the budget, or the region is renewed first.</summary>
    const long Headroom = 256L << 10;

    static readonly object Gate = new();

    /// <summary>
    /// Whether renewing a region collects the young generation. Safe only in a process where one thread runs
    /// TorchSharp: a collection reaches every thread, and TorchSharp's other calls pass temporaries too (<c>a + b</c>
    /// passes its alpha), so another thread's call could lose one. The torchlabs command, which runs its labs on one
    /// thread, turns it on; off (the default, a library's), renewals free nothing, as before.
    /// </summary>
    public static bool CollectOnRenewal { get; set; }

    /// <summary>The thread that started the region, and its allocated bytes then: a call from another thread renews
    /// it.</summary>
    static int owner;
    static long regionStart;

    public static void Run(Action call)
    {
        lock (Gate)
        {
            if (!InRegion() || !OwnHeadroom())
                Renew();
            call();
        }
    }

    static bool InRegion() => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    static bool OwnHeadroom() =>
        Environment.CurrentManagedThreadId == owner
        && GC.GetAllocatedBytesForCurrentThread() - regionStart <= Budget - Headroom;

    static void Renew()
    {
        try
        {
            if (InRegion())
                GC.EndNoGCRegion();
        }
        catch (InvalidOperationException) { } // ended meanwhile by an allocation beyond the budget
        if (CollectOnRenewal)
            GC.Collect(0); // the garbage of the calls since the last renewal
        try
        {
            if (GC.TryStartNoGCRegion(Budget))
                (owner, regionStart) = (Environment.CurrentManagedThreadId, GC.GetAllocatedBytesForCurrentThread());
        }
        catch (InvalidOperationException) { } // the runtime refused; the call runs as it is
    }
}
