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
/// The no-GC region is process-wide, and there are two ways to hold it (<see cref="OneTorchThread"/>):
/// <list type="bullet">
/// <item>Each call its own region, ended after it: the default, a library's. The collection that starts a region frees
/// nothing, so while calls come often no ordinary collection comes either, and the garbage stays: this cost the
/// tutorial's default step a fifth of its speed (docs/performance.md). But with many threads on TorchSharp, as in the
/// test host, it is the safe way: TorchSharp's plain operators pass temporaries too (<c>a + b</c> its alpha), and a
/// region kept between calls, its small budget shared by every thread, brings real collections more often.</item>
/// <item>One region kept from call to call, where one thread runs TorchSharp (the torchlabs command). It is renewed
/// when none is in force, when another thread calls, or when this thread has used all but <see cref="Headroom"/> of
/// its <see cref="Budget"/>; renewing collects the young generation between calls, which frees that garbage at a
/// moment when no TorchSharp call is in flight.</item>
/// </list>
/// One call at a time; when no region can be had, the call runs as it is.
/// </remarks>
public static class WithoutCollection
{
    /// <summary>The allocation a kept region allows. Small on purpose: the young generation then stays in the caches
    /// (an optimizer step of the tutorial's Net allocates about 6 KB, its whole training step about 15 KB).</summary>
    const long Budget = 2L << 20;

    /// <summary>The allocation a call's own region allows: room for the step and for other threads meanwhile.</summary>
    const long OwnBudget = 4L << 20;

    /// <summary>What a call must find left of a kept region's budget, or the region is renewed first.</summary>
    const long Headroom = 256L << 10;

    static readonly object Gate = new();

    /// <summary>Whether one thread runs TorchSharp in this process, so that a kept region and its collections between
    /// calls are safe. The torchlabs command, which runs its labs on one thread, sets it.</summary>
    public static bool OneTorchThread { get; set; }

    /// <summary>The thread that started the kept region, and its allocated bytes then: a call from another thread
    /// renews it.</summary>
    static int owner;
    static long regionStart;

    public static void Run(Action call)
    {
        lock (Gate)
        {
            if (OneTorchThread)
                InKeptRegion(call);
            else
                InOwnRegion(call);
        }
    }

    static void InOwnRegion(Action call)
    {
        End(); // a region kept before OneTorchThread was turned off
        bool region = Start(OwnBudget);
        try
        {
            call();
        }
        finally
        {
            if (region)
                End();
        }
    }

    static void InKeptRegion(Action call)
    {
        if (!InRegion() || !OwnHeadroom())
        {
            End();
            GC.Collect(0); // the garbage of the calls since the last renewal
            if (Start(Budget))
                (owner, regionStart) = (Environment.CurrentManagedThreadId, GC.GetAllocatedBytesForCurrentThread());
        }
        call();
    }

    static bool InRegion() => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    static bool OwnHeadroom() =>
        Environment.CurrentManagedThreadId == owner
        && GC.GetAllocatedBytesForCurrentThread() - regionStart <= Budget - Headroom;

    static bool Start(long budget)
    {
        try
        {
            return GC.TryStartNoGCRegion(budget);
        }
        catch (InvalidOperationException)
        {
            return false; // a region already held elsewhere, or the runtime refused; the call runs as it is
        }
    }

    static void End()
    {
        try
        {
            if (InRegion())
                GC.EndNoGCRegion();
        }
        catch (InvalidOperationException) { } // ended meanwhile by an allocation beyond the budget
    }
}
