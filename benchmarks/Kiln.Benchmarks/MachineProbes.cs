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
    /// Nanoseconds this process's threads spent runnable but waiting for a CPU (second field of
    /// /proc/self/task/*/schedstat): interference from other processes. Read outside timed code only.
    /// </summary>
    public static long RunQueueWaitNs()
    {
        long total = 0;
        try
        {
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    string[] fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                    if (fields.Length > 1 && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ns))
                        total += ns;
                }
                catch (IOException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return total;
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
