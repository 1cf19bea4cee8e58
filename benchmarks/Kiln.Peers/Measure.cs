using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Json;

using Kiln.Benchmarks;
using static Kiln.Benchmarks.MachineProbes;

namespace Kiln.Peers;

/// <summary>
/// The timing method of Kiln.Benchmarks' quick JSON mode (benchmarks/Kiln.Benchmarks/Timing.cs, linked here), applied to a
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
        Timing.Rounds r = Timing.TrainingRounds(step, batch, o.WarmupSteps, o.WarmupSeconds, o.Rounds, o.RoundSeconds, o.MinRoundSteps);
        float last = step(true);
        (double median, double best) = r.Summary();
        return new TrainResult(median, best, r.SamplesPerSecond, r.WaitFractions, r.WarmupSteps, r.FirstLoss, last, learningRate,
            r.AllocatedBytesPerStep);
    }

    /// <summary>
    /// Warm-up (at least <paramref name="warmup"/> calls and <see cref="PeerOptions.WarmupSeconds"/>), then
    /// <paramref name="runs"/> calls each timed on its own; median, p10, p90 and min in microseconds.
    /// </summary>
    public static InferResult Inference(Action call, int runs, int warmup, PeerOptions o)
    {
        Timing.Calls c = Timing.TimedCalls(call, runs, warmup, o.WarmupSeconds);
        return new InferResult(c.MedianUs, c.P10Us, c.P90Us, c.MinUs, c.Runs, c.Warmup, c.AllocatedBytesPerCall, c.RunQueueWaitFraction);
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
