using System;
using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace Kiln.AnalyzerBenchmarks;

/// <summary>
/// The CPU time of the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>), in nanoseconds. The generator
/// driver runs on the thread that calls it, so on a machine shared with other builds this clock leaves out the time the
/// thread waited for a core, which the wall clock counts; on a quiet machine the two agree.
/// </summary>
public sealed class ThreadCpuClock : IClock
{
    public static readonly ThreadCpuClock Instance = new();

    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public string Title => "thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTimeId, out _) == 0;

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp() => Now();

    /// <summary>The calling thread's CPU time so far, in nanoseconds.</summary>
    public static long Now()
    {
        ClockGetTime(ClockThreadCpuTimeId, out TimeSpec time);
        return time.Seconds * 1_000_000_000L + time.Nanoseconds;
    }
}
