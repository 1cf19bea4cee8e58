using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Kiln.Samples.FashionMnist;

/// <summary>Process CPU time over the run and how many threads did a real share of it.</summary>
/// <param name="WallSeconds">Wall time between Start and Stop.</param>
/// <param name="CpuSeconds">Process CPU time (user + system) in that interval.</param>
/// <param name="BusyThreads">Threads that used at least 10% of the wall time in that interval (at least 1).</param>
internal readonly record struct CpuUsage(double WallSeconds, double CpuSeconds, int BusyThreads);

/// <summary>
/// Measures rather than assumes the parallelism of a run, so the metrics' <c>threads</c> stays true whether
/// the generated kernels run on the calling thread only or fan out to others.
/// </summary>
internal sealed class CpuMeter
{
    private readonly long _start;
    private readonly TimeSpan _cpu;
    private readonly Dictionary<int, TimeSpan> _threads;

    private CpuMeter()
    {
        using var p = Process.GetCurrentProcess();
        _threads = Snapshot(p);
        _cpu = p.TotalProcessorTime;
        _start = Stopwatch.GetTimestamp();
    }

    public static CpuMeter Start() => new();

    public CpuUsage Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        using var p = Process.GetCurrentProcess();
        double cpu = (p.TotalProcessorTime - _cpu).TotalSeconds;
        int busy = 0;
        foreach (var (id, time) in Snapshot(p))
        {
            TimeSpan before = _threads.TryGetValue(id, out TimeSpan b) ? b : TimeSpan.Zero;
            if ((time - before).TotalSeconds >= 0.1 * wall) busy++;
        }
        return new CpuUsage(wall, cpu, Math.Max(1, busy));
    }

    private static Dictionary<int, TimeSpan> Snapshot(Process p)
    {
        var result = new Dictionary<int, TimeSpan>();
        foreach (ProcessThread t in p.Threads)
        {
            try
            {
                result[t.Id] = t.TotalProcessorTime;
            }
            catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
            {
                // The thread ended between listing and reading: it did no measurable work for the run.
            }
        }
        return result;
    }
}
