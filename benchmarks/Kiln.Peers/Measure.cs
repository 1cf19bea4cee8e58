using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Json;

using Kiln.Benchmarks;
using static Kiln.Benchmarks.MachineProbes;

namespace Kiln.Peers;

/// <summary>
/// The timing method of Kiln.Benchmarks' quick JSON mode (benchmarks/Kiln.Benchmarks/QuickJson.cs), applied to a
/// peer's step or call: the same warm-up rule, training rounds timed as a whole, inference calls timed one by one,
/// the same run-queue and allocation probes, so that the figures of both sides mean the same thing.
/// </summary>
internal static class Measure
{
    /// <summary>
    /// After warm-up (at least <see cref="PeerOptions.WarmupSteps"/> steps and <see cref="PeerOptions.WarmupSeconds"/>),
    /// <see cref="PeerOptions.Rounds"/> rounds of steps, each at least <see cref="PeerOptions.RoundSeconds"/> and
    /// <see cref="PeerOptions.MinRoundSteps"/> steps, the clock read every 8 steps; the median round's samples/s.
    /// <paramref name="step"/> trains on the next batch and returns the loss when its argument is true (NaN otherwise,
    /// so that timed steps do not pay for reading the loss back).
    /// </summary>
    public static TrainResult Training(Func<bool, float> step, int batch, float learningRate, PeerOptions o)
    {
        float first = float.NaN;
        var warm = Stopwatch.StartNew();
        int warmSteps = 0;
        while (warmSteps < o.WarmupSteps || warm.Elapsed.TotalSeconds < o.WarmupSeconds)
        {
            float loss = step(warmSteps == 0);
            if (warmSteps++ == 0) first = loss;
        }

        var rounds = new double[o.Rounds];
        var waits = new double[o.Rounds];
        long allocated = 0, totalSteps = 0;
        for (int r = 0; r < o.Rounds; r++)
        {
            long steps = 0;
            SchedTotals w0 = ReadSchedTotals();
            long a0 = GC.GetTotalAllocatedBytes(precise: false);
            long t0 = Stopwatch.GetTimestamp();
            long deadline = t0 + (long)(o.RoundSeconds * Stopwatch.Frequency);
            long now;
            while (true)
            {
                for (int i = 0; i < 8; i++) step(false); // read the clock every few steps only
                steps += 8;
                now = Stopwatch.GetTimestamp();
                if (now >= deadline && steps >= o.MinRoundSteps) break;
            }
            allocated += GC.GetTotalAllocatedBytes(precise: false) - a0;
            totalSteps += steps;
            double seconds = (now - t0) / (double)Stopwatch.Frequency;
            rounds[r] = steps * batch / seconds;
            waits[r] = SchedTotals.WaitFraction(w0, ReadSchedTotals());
        }
        float last = step(true);
        double[] sorted = (double[])rounds.Clone();
        Array.Sort(sorted);
        return new TrainResult(Median(sorted), sorted[^1], rounds, waits, warmSteps, first, last, learningRate,
            allocated / (double)totalSteps);
    }

    /// <summary>
    /// Warm-up (at least <paramref name="warmup"/> calls and <see cref="PeerOptions.WarmupSeconds"/>), then
    /// <paramref name="runs"/> calls each timed on its own; median, p10, p90 and min in microseconds.
    /// </summary>
    public static InferResult Inference(Action call, int runs, int warmup, PeerOptions o)
    {
        var warm = Stopwatch.StartNew();
        int warmed = 0;
        while (warmed < warmup || warm.Elapsed.TotalSeconds < o.WarmupSeconds)
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
        return new InferResult(Median(us), us[runs / 10], us[runs * 9 / 10], us[0], runs, warmed, allocated / (double)runs, wait);
    }
}

/// <summary>One training measurement (the fields of QuickJson's train_bN details).</summary>
internal sealed record TrainResult(double SamplesPerSecond, double Best, double[] Rounds, double[] RunQueueWaitFractions,
    int WarmupSteps, float FirstLoss, float LastLoss, float LearningRate, double AllocatedBytesPerStep)
{
    public void Write(Utf8JsonWriter w, string name, string variant)
    {
        w.WriteStartObject(name);
        w.WriteString("variant", variant);
        w.WriteNumber("samples_per_s", Math.Round(SamplesPerSecond, 1));
        w.WriteStartArray("rounds_samples_per_s");
        foreach (double r in Rounds) w.WriteNumberValue(Math.Round(r, 1));
        w.WriteEndArray();
        w.WriteNumber("best_samples_per_s", Math.Round(Best, 1));
        w.WriteStartArray("rounds_runqueue_wait_fraction");
        foreach (double f in RunQueueWaitFractions) w.WriteNumberValue(Math.Round(f, 4));
        w.WriteEndArray();
        w.WriteNumber("warmup_steps", WarmupSteps);
        Json.Float(w, "first_loss", FirstLoss);
        Json.Float(w, "last_loss", LastLoss);
        w.WriteNumber("learning_rate", LearningRate);
        w.WriteNumber("allocated_bytes_per_op", Math.Round(AllocatedBytesPerStep, 1));
        w.WriteEndObject();
    }
}

/// <summary>One inference measurement (the fields of QuickJson's infer_bN details).</summary>
internal sealed record InferResult(double MedianUs, double P10Us, double P90Us, double MinUs, int Runs, int Warmup,
    double AllocatedBytesPerOp, double RunQueueWaitFraction)
{
    public void Write(Utf8JsonWriter w, string name, string variant)
    {
        w.WriteStartObject(name);
        w.WriteString("variant", variant);
        w.WriteNumber("median_us", Math.Round(MedianUs, 3));
        w.WriteNumber("p10_us", Math.Round(P10Us, 3));
        w.WriteNumber("p90_us", Math.Round(P90Us, 3));
        w.WriteNumber("min_us", Math.Round(MinUs, 3));
        w.WriteNumber("runs", Runs);
        w.WriteNumber("warmup", Warmup);
        w.WriteNumber("allocated_bytes_per_op", Math.Round(AllocatedBytesPerOp, 1));
        if (double.IsFinite(RunQueueWaitFraction)) w.WriteNumber("runqueue_wait_fraction", Math.Round(RunQueueWaitFraction, 4));
        else w.WriteNull("runqueue_wait_fraction");
        w.WriteEndObject();
    }
}

/// <summary>JSON helpers shared by the peers.</summary>
internal static class Json
{
    /// <summary>A float, or its text when it is not finite (JSON has no NaN).</summary>
    public static void Float(Utf8JsonWriter w, string name, float value)
    {
        if (float.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
    }
}
