using System;
using System.Diagnostics;

using static Kiln.Benchmarks.MachineProbes;

namespace Kiln.Benchmarks;

/// <summary>
/// The quick-JSON timing method: warm-up, training rounds timed as a whole, inference calls timed one by one, with the
/// run-queue and allocation probes. Shared by Kiln.Benchmarks and the .NET peers (benchmarks/Kiln.Peers links this
/// file), so that the figures of both sides come from the same loop.
/// </summary>
internal static class Timing
{
    /// <summary>What <see cref="TrainingRounds"/> measured.</summary>
    /// <param name="SamplesPerSecond">Each round's samples/s, in round order.</param>
    /// <param name="WaitFractions">Each round's run-queue wait fraction.</param>
    /// <param name="LastLoss">What the last timed step returned (NaN for a step that returns the loss only on request).</param>
    public readonly record struct Rounds(double[] SamplesPerSecond, double[] WaitFractions, int WarmupSteps, float FirstLoss,
        float LastLoss, double AllocatedBytesPerStep)
    {
        /// <summary>The median and the best round's samples/s.</summary>
        public (double Median, double Best) Summary()
        {
            double[] sorted = (double[])SamplesPerSecond.Clone();
            Array.Sort(sorted);
            return (Median(sorted), sorted[^1]);
        }
    }

    /// <summary>
    /// After warm-up (at least <paramref name="warmupSteps"/> steps and <paramref name="warmupSeconds"/>),
    /// <paramref name="rounds"/> rounds of steps, each at least <paramref name="roundSeconds"/> and
    /// <paramref name="minRoundSteps"/> steps, the clock read every 8 steps. <paramref name="step"/> trains on the next
    /// batch of <paramref name="batch"/> rows; its argument asks for the loss (true for the first warm-up step only).
    /// </summary>
    public static Rounds TrainingRounds(Func<bool, float> step, int batch, int warmupSteps, double warmupSeconds,
        int rounds, double roundSeconds, int minRoundSteps)
    {
        float first = float.NaN, last = float.NaN;
        var warm = Stopwatch.StartNew();
        int warmed = 0;
        while (warmed < warmupSteps || warm.Elapsed.TotalSeconds < warmupSeconds)
        {
            last = step(warmed == 0);
            if (warmed++ == 0) first = last;
        }

        var perSecond = new double[rounds];
        var waits = new double[rounds];
        long allocated = 0, totalSteps = 0;
        for (int r = 0; r < rounds; r++)
        {
            long steps = 0;
            SchedTotals w0 = ReadSchedTotals();
            long a0 = GC.GetTotalAllocatedBytes(precise: false);
            long t0 = Stopwatch.GetTimestamp();
            long deadline = t0 + (long)(roundSeconds * Stopwatch.Frequency);
            long now;
            while (true)
            {
                for (int i = 0; i < 8; i++) last = step(false); // read the clock every few steps only
                steps += 8;
                now = Stopwatch.GetTimestamp();
                if (now >= deadline && steps >= minRoundSteps) break;
            }
            allocated += GC.GetTotalAllocatedBytes(precise: false) - a0;
            totalSteps += steps;
            double seconds = (now - t0) / (double)Stopwatch.Frequency;
            perSecond[r] = steps * batch / seconds;
            waits[r] = SchedTotals.WaitFraction(w0, ReadSchedTotals());
        }
        return new Rounds(perSecond, waits, warmed, first, last, allocated / (double)totalSteps);
    }

    /// <summary>What <see cref="TimedCalls"/> measured, in microseconds per call.</summary>
    public readonly record struct Calls(double MedianUs, double P10Us, double P90Us, double MinUs, int Runs, int Warmup,
        double AllocatedBytesPerCall, double RunQueueWaitFraction);

    /// <summary>
    /// Warm-up (at least <paramref name="warmup"/> calls and <paramref name="warmupSeconds"/>), then
    /// <paramref name="runs"/> calls each timed on its own; median, p10, p90 and min.
    /// </summary>
    public static Calls TimedCalls(Action call, int runs, int warmup, double warmupSeconds)
    {
        var warm = Stopwatch.StartNew();
        int warmed = 0;
        while (warmed < warmup || warm.Elapsed.TotalSeconds < warmupSeconds)
        {
            call();
            warmed++;
        }

        var ticks = new long[runs];
        SchedTotals w0 = ReadSchedTotals();
        long start = Stopwatch.GetTimestamp();
        long a0 = GC.GetTotalAllocatedBytes(precise: false);
        for (int i = 0; i < runs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            ticks[i] = Stopwatch.GetTimestamp() - t0;
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: false) - a0;
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        // Too short an interval makes the fraction meaningless (the /proc reads themselves dominate).
        double wait = wall >= 0.05 ? SchedTotals.WaitFraction(w0, ReadSchedTotals()) : double.NaN;

        Array.Sort(ticks);
        double toUs = 1e6 / Stopwatch.Frequency;
        var us = new double[runs];
        for (int i = 0; i < runs; i++) us[i] = ticks[i] * toUs;
        return new Calls(Median(us), us[runs / 10], us[runs * 9 / 10], us[0], runs, warmed, allocated / (double)runs, wait);
    }
}
