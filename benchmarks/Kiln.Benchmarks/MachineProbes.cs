using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace Kiln.Benchmarks;

/// <summary>
/// What every quick-JSON measurement reads from the machine: run-queue wait, the CPU's name, medians. Shared by
/// Kiln.Benchmarks and the .NET peers (benchmarks/Kiln.Peers links this file) so both sides measure the same way.
/// </summary>
internal static class MachineProbes
{
    /// <summary>
    /// The on-CPU and run-queue time of every thread of this process, summed: the first two fields of
    /// /proc/self/task/*/schedstat (time running, time runnable but waiting for a CPU, in nanoseconds). Read outside
    /// timed code only; zero where /proc cannot be read.
    /// </summary>
    public static SchedTotals ReadSchedTotals()
    {
        var totals = new SchedTotals(0, 0);
        try
        {
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try { totals += SchedTotals.Parse(File.ReadAllText(Path.Combine(task, "schedstat"))); }
                catch (IOException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return totals;
    }

    /// <summary>The median of an ascending array.</summary>
    public static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);

    /// <summary>The CPU's model name from /proc/cpuinfo, or the process architecture where there is none.</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}

/// <summary>
/// Running and run-queue time of a set of threads (nanoseconds), as /proc/&lt;pid&gt;/task/&lt;tid&gt;/schedstat
/// reports them. Two readings around an interval give its run-queue wait fraction (<see cref="WaitFraction"/>), the
/// figure every side of benchmarks/peers/compare.sh reports (torch_mlp.py computes it the same way).
/// </summary>
internal readonly record struct SchedTotals(long RunNs, long WaitNs)
{
    /// <summary>The sum of two readings (of two threads).</summary>
    public static SchedTotals operator +(SchedTotals a, SchedTotals b) => new(a.RunNs + b.RunNs, a.WaitNs + b.WaitNs);

    /// <summary>
    /// One schedstat line, "run_ns wait_ns timeslices"; zero for a line that does not parse (a thread that exited
    /// while it was read).
    /// </summary>
    public static SchedTotals Parse(string schedstat)
    {
        string[] fields = schedstat.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1
            && long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long run)
            && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long wait)
            ? new SchedTotals(run, wait) : default;
    }

    /// <summary>
    /// The share of the time this process's threads were runnable between <paramref name="before"/> and
    /// <paramref name="after"/> that they spent waiting for a CPU: wait / (run + wait) over the interval, in [0, 1].
    /// 0: every thread that wanted a CPU had one; 0.5: they got half the CPU time they asked for (another process on
    /// the cores, or more runnable threads than cores). It counts every thread of the process — the runtime's own
    /// (GC, JIT) and a library's pools as well as the ones a benchmark configures — so it needs no thread count and
    /// cannot exceed 1, as wait / (wall × threads) could. NaN when no thread ran (or a thread that exited took its
    /// figures with it).
    /// </summary>
    public static double WaitFraction(SchedTotals before, SchedTotals after)
    {
        long run = after.RunNs - before.RunNs, wait = after.WaitNs - before.WaitNs;
        return run >= 0 && wait >= 0 && run + wait > 0 ? wait / (double)(run + wait) : double.NaN;
    }
}
