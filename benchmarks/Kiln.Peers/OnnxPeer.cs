using System;
using System.Collections.Generic;
using System.Text.Json;
using Kiln.Benchmarks;
using Kiln.Interop;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Kiln.Peers;

/// <summary>
/// ONNX Runtime inference of Kiln's own ONNX export (<see cref="OnnxExport"/>) of the benchmark model, configured as
/// its performance guide advises for CPU latency: every graph optimisation, sequential execution, one inter-op
/// thread, the memory pattern and CPU arena on, inputs and outputs bound once to pre-allocated buffers (IOBinding) so
/// that no allocation is timed. Intra-op threads 1 and <c>--threads</c> are both measured, the latter with ONNX
/// Runtime's default spinning thread pool and with spinning off (<c>session.intra_op.allow_spinning</c> and
/// <c>session.inter_op.allow_spinning</c> = 0: a pool thread that waits for work sleeps instead of spinning, which on
/// a machine with as many cores as threads leaves the core to the thread with work); the fastest is reported per
/// figure, with its run-queue wait. The output is checked against Kiln's Predict on the same input: a wrong peer is
/// not a peer.
/// </summary>
internal static unsafe class OnnxPeer
{
    /// <summary>Largest |ONNX Runtime − Predict| accepted; the interop tests find at most about 1e-6.</summary>
    private const double Tolerance = 1e-4;

    public static PeerResult Run(AlignedFloats x, int[] y, PeerOptions o)
    {
        // Kiln only checks the answers here: one thread, so that no idle worker of its pool shares the cores.
        Environment.SetEnvironmentVariable("KILN_THREADS", "1");
        // The model QuickJson's inference measures: fresh, then four training steps at batch 256 so that the
        // BatchNorm running statistics are not the identity.
        IKilnModel model = o.Cnn ? new BenchCnn() : new BenchMlp();
        for (int i = 0; i < 4; i++)
            model.TrainStep(x.Slice(i * 256 * BenchData.InputSize, 256 * BenchData.InputSize), y.AsSpan(i * 256, 256), 256);
        byte[] onnx = OnnxExport.ToBytes(model, new OnnxExportOptions());

        // One intra-op thread has no pool to spin; more threads are measured with spinning on (the default) and off.
        var variants = new List<SessionVariant> { new(1, Spinning: true) };
        if (o.Threads > 1) variants.AddRange([new(o.Threads, Spinning: true), new(o.Threads, Spinning: false)]);
        var measured = new List<(SessionVariant Variant, int Batch, InferResult Result, double MaxAbsDiff)>();
        foreach (SessionVariant variant in variants)
            foreach (int batch in (int[])[1, 256])
            {
                (InferResult r, double diff) = Measure1(model, onnx, x, batch, variant, o);
                measured.Add((variant, batch, r, diff));
            }

        (SessionVariant Variant, int Batch, InferResult Result, double MaxAbsDiff) Fastest(int batch)
        {
            (SessionVariant, int, InferResult, double)? best = null;
            foreach (var m in measured)
                if (m.Batch == batch && (best is null || m.Result.MedianUs < best.Value.Item3.MedianUs)) best = m;
            return best!.Value;
        }
        var b1 = Fastest(1);
        var b256 = Fastest(256);

        return new PeerResult
        {
            Framework = "onnxruntime",
            Config = $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} CPU, Kiln's ONNX export (opset {new OnnxExportOptions().Opset}, BatchNorm folded), " +
                     $"ORT_ENABLE_ALL, sequential, inter-op 1, memory pattern + CPU arena, IOBinding to pre-allocated buffers; " +
                     $"intra-op threads {string.Join(", ", variants)}, fastest per figure (batch 1: {b1.Variant}, batch 256: {b256.Variant}); inference only",
            Infer1Us = b1.Result.MedianUs,
            Infer256Us = b256.Result.MedianUs,
            Details = w =>
            {
                b1.Result.Write(w, "infer_b1", b1.Variant.Key);
                b256.Result.Write(w, "infer_b256", b256.Variant.Key);
                w.WriteStartArray("all_measurements");
                foreach (var m in measured)
                {
                    w.WriteStartObject();
                    w.WriteNumber("batch", m.Batch);
                    w.WriteNumber("intra_op_threads", m.Variant.Threads);
                    w.WriteBoolean("allow_spinning", m.Variant.Spinning);
                    w.WriteNumber("median_us", Math.Round(m.Result.MedianUs, 3));
                    w.WriteNumber("p10_us", Math.Round(m.Result.P10Us, 3));
                    if (double.IsFinite(m.Result.RunQueueWaitFraction)) w.WriteNumber("runqueue_wait_fraction", Math.Round(m.Result.RunQueueWaitFraction, 4));
                    else w.WriteNull("runqueue_wait_fraction");
                    w.WriteNumber("max_abs_diff_vs_kiln_predict", m.MaxAbsDiff);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                double worst = 0;
                foreach (var m in measured) worst = Math.Max(worst, m.MaxAbsDiff);
                w.WriteNumber("max_abs_diff_vs_kiln_predict", worst);
                w.WriteNumber("onnx_bytes", onnx.Length);
                w.WriteString("onnxruntime_version", OrtEnv.Instance().GetVersionString());
            },
        };
    }

    /// <summary>One session configuration: intra-op threads, and whether waiting pool threads spin.</summary>
    private sealed record SessionVariant(int Threads, bool Spinning)
    {
        /// <summary>The variant as the JSON details name it.</summary>
        public string Key => $"intra_op_threads={Threads}" + (Threads > 1 ? $",allow_spinning={(Spinning ? 1 : 0)}" : "");

        public override string ToString() => Threads == 1 ? "1" : $"{Threads} ({(Spinning ? "spinning" : "no spinning")})";
    }

    /// <summary>One session in <paramref name="variant"/>'s configuration, timed at one batch size, and its largest difference from Predict.</summary>
    private static (InferResult Result, double MaxAbsDiff) Measure1(IKilnModel model, byte[] onnx, AlignedFloats x, int batch, SessionVariant variant, PeerOptions o)
    {
        int threads = variant.Threads;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            EnableMemoryPattern = true,
            EnableCpuMemArena = true,
        };
        if (!variant.Spinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        }
        using var session = new InferenceSession(onnx, options);

        // The input is the benchmark data in place (64-byte aligned, pinned), as Predict reads it; the output a
        // pre-allocated aligned buffer. Bound once: the timed call allocates nothing.
        int inputs = batch * BenchData.InputSize, outputs = batch * BenchData.Classes;
        var output = new AlignedFloats(outputs);
        Span<float> input = x.Slice(0, inputs);
        fixed (float* pin = input)
        fixed (float* pout = output.Span)
        {
            using var inValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float,
                [batch, BenchData.InputSize], (IntPtr)pin, inputs * sizeof(float));
            using var outValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float,
                [batch, BenchData.Classes], (IntPtr)pout, outputs * sizeof(float));
            using var binding = session.CreateIoBinding();
            binding.BindInput(session.InputNames[0], inValue);
            binding.BindOutput(session.OutputNames[0], outValue);
            using var run = new RunOptions();

            InferResult r = Measure.Inference(() => session.RunWithBinding(run, binding), batch == 1 ? o.InferRuns : o.InferRuns256,
                batch == 1 ? Math.Max(50, o.InferRuns / 10) : Math.Max(10, o.InferRuns256 / 10), o);

            var expected = new float[outputs];
            model.Predict(input, expected, batch);
            double diff = 0;
            ReadOnlySpan<float> actual = output.Span;
            for (int i = 0; i < outputs; i++) diff = Math.Max(diff, Math.Abs(actual[i] - (double)expected[i]));
            if (!(diff <= Tolerance))
                throw new InvalidOperationException(
                    $"ONNX Runtime's output differs from Kiln's Predict by {diff:G3} (batch {batch}, intra-op threads {variant}): the export or the peer is wrong.");
            return (r, diff);
        }
    }
}
