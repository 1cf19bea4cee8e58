using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;

namespace Kiln.Kernels;

/// <summary>The distribution of one probe's samples, in microseconds.</summary>
/// <param name="Samples">How many samples were taken.</param>
/// <param name="MedianUs">The median sample.</param>
/// <param name="P90Us">The 90th percentile.</param>
/// <param name="MaxUs">The largest sample.</param>
public readonly record struct ProbeTiming(int Samples, double MedianUs, double P90Us, double MaxUs)
{
    /// <summary>"median / p90 / max µs (n samples)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{MedianUs:F3} / {P90Us:F3} / {MaxUs:F1} µs (median / p90 / max of {Samples})");

    internal static ProbeTiming FromTicks(long[] ticks, int count, double divisor = 1)
    {
        Array.Sort(ticks, 0, count);
        double Us(long t) => t * 1e6 / Stopwatch.Frequency / divisor;
        return new ProbeTiming(count, Us(ticks[count / 2]), Us(ticks[Math.Min(count - 1, count * 9 / 10)]), Us(ticks[count - 1]));
    }
}

/// <summary>
/// Measures what two threads' cooperation costs on this machine, at the moment of the call: what the worker pool's
/// stages pay beyond their arithmetic (docs/threads.md). Run it while two threads are slower than one to see which part
/// collapsed: cache lines crossing between the cores (<see cref="CacheLinePingPong"/>), waking a blocked thread
/// (<see cref="BlockingWakeUp"/>), a polling thread that yields its core (<see cref="YieldingWakeUp"/>), or a whole
/// stage hand-off of the pool (<see cref="EmptyStage"/>).
/// </summary>
public static class PoolProbe
{
    /// <summary>
    /// Round trips of one cache line between two threads that each wait (busy, no yield) for the other's write: the
    /// latency of data crossing between the cores the OS put them on. Each sample is the mean of
    /// <paramref name="tripsPerSample"/> round trips; a sample during which one thread was descheduled shows as the maximum.
    /// </summary>
    public static ProbeTiming CacheLinePingPong(int samples = 200, int tripsPerSample = 200)
    {
        Check(samples, tripsPerSample);
        var line = new int[32]; // the counter at [16]: a line of its own
        var ticks = new long[samples];
        var other = new Thread(() =>
        {
            for (int v = 1; v < 2 * samples * tripsPerSample; v += 2)
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref line[16]) != v) if (spin.Count < 100) Thread.SpinWait(1); else spin.SpinOnce(-1);
                Volatile.Write(ref line[16], v + 1);
            }
        }) { IsBackground = true, Name = "Kiln probe ping-pong" };
        other.Start();
        int value = 0;
        for (int s = 0; s < samples; s++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < tripsPerSample; i++)
            {
                Volatile.Write(ref line[16], value + 1);
                value += 2;
                var spin = new SpinWait();
                while (Volatile.Read(ref line[16]) != value) if (spin.Count < 100) Thread.SpinWait(1); else spin.SpinOnce(-1);
            }
            ticks[s] = Stopwatch.GetTimestamp() - t0;
        }
        other.Join();
        return ProbeTiming.FromTicks(ticks, samples, tripsPerSample);
    }

    /// <summary>
    /// From <see cref="Monitor.Pulse"/> on one thread to the first instruction of the thread it wakes (blocked in
    /// <see cref="Monitor.Wait(object)"/>): what a stage pays when it finds a worker asleep.
    /// </summary>
    public static ProbeTiming BlockingWakeUp(int samples = 200) => WakeUp(samples, blocking: true);

    /// <summary>
    /// From a write on one thread to the moment another thread, polling with <see cref="Thread.Yield"/> between reads,
    /// sees it: what a stage pays when its worker waits in the pool's yielding phase.
    /// </summary>
    public static ProbeTiming YieldingWakeUp(int samples = 200) => WakeUp(samples, blocking: false);

    private static ProbeTiming WakeUp(int samples, bool blocking)
    {
        Check(samples, 1);
        var gate = new object();
        var state = new long[48]; // [16]: the request number, [32]: the waker's timestamp on reply
        var ticks = new long[samples];
        var waiter = new Thread(() =>
        {
            for (int n = 1; n <= samples; n++)
            {
                if (blocking)
                {
                    lock (gate)
                        while (Volatile.Read(ref state[16]) < n) Monitor.Wait(gate);
                }
                else
                {
                    while (Volatile.Read(ref state[16]) < n) Thread.Yield();
                }
                Volatile.Write(ref state[32], Stopwatch.GetTimestamp());
            }
        }) { IsBackground = true, Name = "Kiln probe waiter" };
        waiter.Start();
        for (int n = 1; n <= samples; n++)
        {
            Volatile.Write(ref state[32], 0);
            Thread.Sleep(1); // let the waiter settle into its wait (blocked, or polling)
            long t0 = Stopwatch.GetTimestamp();
            if (blocking)
            {
                lock (gate)
                {
                    Volatile.Write(ref state[16], n);
                    Monitor.Pulse(gate);
                }
            }
            else Volatile.Write(ref state[16], n);
            long t1;
            while ((t1 = Volatile.Read(ref state[32])) == 0) Thread.Yield();
            ticks[n - 1] = Math.Max(0, t1 - t0);
        }
        waiter.Join();
        return ProbeTiming.FromTicks(ticks, samples);
    }

    /// <summary>
    /// One <see cref="WorkerPool.Run"/> of a stage whose parts do nothing, on <paramref name="pool"/> whose workers are
    /// polling (the stages follow each other): publishing a stage, each worker noticing it, and the caller seeing every
    /// part finished. Each sample is the mean of <paramref name="stagesPerSample"/> stages.
    /// </summary>
    public static ProbeTiming EmptyStage(WorkerPool pool, int samples = 200, int stagesPerSample = 50)
    {
        ArgumentNullException.ThrowIfNull(pool);
        Check(samples, stagesPerSample);
        var body = new Nothing();
        var ticks = new long[samples];
        for (int i = 0; i < 100; i++) pool.Run(body, 0); // wake the workers
        for (int s = 0; s < samples; s++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < stagesPerSample; i++) pool.Run(body, 0);
            ticks[s] = Stopwatch.GetTimestamp() - t0;
        }
        return ProbeTiming.FromTicks(ticks, samples, stagesPerSample);
    }

    /// <summary>The four probes, one per line, for a diagnostic print.</summary>
    public static string Report(WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return string.Create(CultureInfo.InvariantCulture,
            $"cache-line round trip     {CacheLinePingPong()}\nblocking wake-up          {BlockingWakeUp()}\nyielding wake-up          {YieldingWakeUp()}\nempty stage ({pool.Parallelism} threads)   {EmptyStage(pool)}\n");
    }

    private static void Check(int samples, int per)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "A probe needs at least one sample.");
        if (per < 1) throw new ArgumentOutOfRangeException(nameof(per), per, "A sample needs at least one repetition.");
    }

    private sealed class Nothing : IParallelStages
    {
        public void RunStage(int stage, int part, int parts) { }
    }
}
