using TorchSharp;

namespace TorchLabs.Runtime;

/// <summary>
/// A second thread for a second lane of work that takes a few hundred microseconds and comes again at once: it spins while
/// waiting (a sleeping thread takes tens of microseconds to wake, as long as a quarter of the work), and after
/// <see cref="SpinLimit"/> without work it sleeps until the next job. libtorch runs on one intra-op thread there (OpenMP's
/// thread count is per calling thread). Each job runs in a dispose scope of its own; an exception reaches <see cref="Wait"/>.
/// </summary>
public sealed class LaneWorker : IDisposable
{
    /// <summary>How long the thread spins for the next job before it sleeps.</summary>
    public static readonly TimeSpan SpinLimit = TimeSpan.FromMilliseconds(2);

    readonly Thread thread;
    readonly ManualResetEventSlim wake = new(false);
    volatile Action? job;
    volatile bool busy, stopping;
    Exception? error;

    public LaneWorker(string name)
    {
        thread = new Thread(Loop) { IsBackground = true, Name = name };
        thread.Start();
    }

    void Loop()
    {
        torch.set_num_threads(1);
        while (!stopping)
        {
            var idle = System.Diagnostics.Stopwatch.StartNew();
            var spin = new SpinWait();
            Action? work;
            while ((work = job) is null && !stopping)
            {
                if (idle.Elapsed < SpinLimit) { spin.SpinOnce(-1); continue; }
                wake.Wait();                                  // long idle: sleep until Post or Dispose sets it
                wake.Reset();
                idle.Restart();
            }
            if (work is null) break;
            job = null;
            try
            {
                using var scope = torch.NewDisposeScope();
                work();
            }
            catch (Exception e) { error = e; }
            busy = false;
        }
    }

    /// <summary>Starts <paramref name="work"/> on the thread (after the previous job has finished).</summary>
    public void Post(Action work)
    {
        ObjectDisposedException.ThrowIf(stopping, this);
        Wait();
        busy = true;
        job = work;
        wake.Set();
    }

    /// <summary>Waits for the posted job; rethrows its exception.</summary>
    public void Wait()
    {
        var spin = new SpinWait();
        while (busy) spin.SpinOnce(-1);
        if (error is not null)
        {
            var e = error;
            error = null;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        }
    }

    public void Dispose()
    {
        if (stopping) return;
        try { Wait(); } catch { }
        stopping = true;
        wake.Set();
        thread.Join();
        wake.Dispose();
    }
}
