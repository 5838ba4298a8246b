using System.Runtime;
using TorchLabs.Runtime;
using TorchLabs.Tests.Reliability;

namespace TorchLabs.Tests.Runtime;

/// <summary>
/// The no-GC region around TorchSharp's optimizer steps: in force during each call; by default ended after it; with
/// OneTorchThread (the torchlabs command's), kept between calls and renewed now and then with a collection of the young
/// generation, so the garbage of earlier calls is freed (the region's own start frees nothing). In the process-memory
/// collection: alone, since other tests' allocations would share the region's budget.
/// </summary>
[Collection(ProcessMemory.Name)]
public class WithoutCollectionTests
{
    [Fact]
    public void Run_HoldsANoGcRegion_DuringTheCall()
    {
        GCLatencyMode during = GCLatencyMode.Batch;
        WithoutCollection.Run(() => during = GCSettings.LatencyMode);
        Assert.Equal(GCLatencyMode.NoGCRegion, during);
    }

    [Fact]
    public void Run_ByDefault_EndsTheRegionAfterTheCall()
    {
        WithoutCollection.Run(() => { });
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void Run_WithOneTorchThread_KeepsTheRegionBetweenCalls_AndFreesTheGarbageOfEarlierCalls()
    {
        WithoutCollection.OneTorchThread = true; // as the torchlabs command runs; this collection runs alone
        try
        {
            KeptAndCollected();
        }
        finally
        {
            WithoutCollection.OneTorchThread = false;
            WithoutCollection.Run(() => { }); // a call of the default kind ends the kept region
        }
    }

    static void KeptAndCollected()
    {
        const int calls = 400;
        const int garbagePerCall = 10_000; // 4 MB in all: two renewals at least with a 2 MB budget
        WeakReference early = new(null);
        int before = GC.CollectionCount(0);
        int inRegion = 0;
        for (int i = 0; i < calls; i++)
            WithoutCollection.Run(() =>
            {
                var garbage = new byte[garbagePerCall];
                if (i == 0)
                    early.Target = garbage;
                if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                    inRegion++;
            });
        int collections = GC.CollectionCount(0) - before;
        Assert.Equal(calls, inRegion);
        Assert.InRange(collections, 2, calls / 10); // renewed now and then, not once a call
        Assert.False(early.IsAlive, "the first call's garbage is still alive after the renewals");
    }
}
