using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Kiln.Kernels;

namespace Kiln.Benchmarks;

/// <summary>
/// <c>--gemm</c>: GFLOP/s of <see cref="Gemm.Forward{TIsa, TEpi}(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, in TEpi)"/>,
/// <see cref="Gemm.BackwardInput{TIsa}"/> and <see cref="Gemm.BackwardWeights{TIsa, TSink}"/> on the benchmark models'
/// shapes, on the calling thread only, against the FMA peak measured in the same process.
/// Every figure is a minimum over repetitions (interference on a shared machine only ever slows one), as
/// docs/perf/training-profile.md measures stages. Shapes are the ones the generated code passes:
/// <list type="bullet">
/// <item><c>conv</c>: the benchmark CNN's conv0 (per 3-sample chunk: 2,352 rows × k 25 × n 16) and conv1 (per sample:
/// 196 × 400 × 32), the weight gradients in 256-row blocks over a whole batch of 64 (the blocks stream the batch's
/// patch matrix, as the stage does).</item>
/// <item><c>mlp</c>: the benchmark MLP's 256 × 784 × 256 and 256 × 256 × 256.</item>
/// <item><c>wide</c>: MLP widths 1024 and 4096 (w of 4 and 64 MiB) at batch 16, 64 and 256 (<c>--large</c> adds 1024), and
/// the 784 × 4096 first layer of the width-4096 MLP (forward only: it needs no input gradient).</item>
/// </list>
/// Each line also gives the product's floor: the longer of its FLOPs at the FMA peak and of reading w once at the
/// memory read bandwidth measured in the same process (one thread streaming a 256-MiB buffer), and the measured time's
/// share of that floor ("% floor"); a product that fits no cache cannot beat the second.
/// Options: <c>--shapes conv,mlp,wide</c> (default all), <c>--isa avx512|avx2|portable</c> (default avx512),
/// <c>--seconds S</c> per product (default 0.4), <c>--large</c>, <c>--only TEXT</c> (the products whose name contains it).
/// </summary>
internal static class GemmBench
{
    private enum Op { Forward, BackwardInput, BackwardWeights }

    private sealed record Case(string Group, string Name, Op Op, int Rows, int K, int N, int Blocks = 1);

    public static int Run(string[] args)
    {
        string shapes = "conv,mlp,wide", isa = "avx512";
        double seconds = 0.4;
        bool large = false;
        string? only = null;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
                switch (a)
                {
                    case "--shapes": shapes = Value(); break;
                    case "--isa": isa = Value(); break;
                    case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--large": large = true; break;
                    case "--only": only = Value(); break;
                    default: throw new ArgumentException($"unknown option '{a}'.");
                }
            }
            if (!(seconds > 0)) throw new ArgumentException("--seconds must be positive.");
            if (isa is not ("avx512" or "avx2" or "portable")) throw new ArgumentException($"--isa '{isa}' is not avx512, avx2 or portable.");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"--gemm: {e.Message}");
            return 2;
        }

        var cases = new List<Case>();
        foreach (string group in shapes.Split(','))
            switch (group)
            {
                case "conv":
                    cases.Add(new("conv", "conv0 F", Op.Forward, 3 * 784, 25, 16));
                    cases.Add(new("conv", "conv0 dW", Op.BackwardWeights, 256, 25, 16, Blocks: 64 * 784 / 256));
                    cases.Add(new("conv", "conv1 F", Op.Forward, 196, 400, 32));
                    cases.Add(new("conv", "conv1 dX", Op.BackwardInput, 196, 400, 32));
                    cases.Add(new("conv", "conv1 dW", Op.BackwardWeights, 256, 400, 32, Blocks: 64 * 196 / 256));
                    break;
                case "mlp":
                    foreach ((int k, int n) in new[] { (784, 256), (256, 256) })
                    {
                        cases.Add(new("mlp", $"{k}x{n} F", Op.Forward, 256, k, n));
                        cases.Add(new("mlp", $"{k}x{n} dX", Op.BackwardInput, 256, k, n));
                        cases.Add(new("mlp", $"{k}x{n} dW", Op.BackwardWeights, 256, k, n));
                    }
                    break;
                case "wide":
                    foreach (int batch in large ? new[] { 16, 64, 256, 1024 } : new[] { 16, 64, 256 })
                        cases.Add(new("wide", $"784x4096 b{batch} F", Op.Forward, batch, 784, 4096));
                    foreach (int width in new[] { 1024, 4096 })
                        foreach (int batch in large ? new[] { 16, 64, 256, 1024 } : new[] { 16, 64, 256 })
                        {
                            cases.Add(new("wide", $"w{width} b{batch} F", Op.Forward, batch, width, width));
                            cases.Add(new("wide", $"w{width} b{batch} dX", Op.BackwardInput, batch, width, width));
                            cases.Add(new("wide", $"w{width} b{batch} dW", Op.BackwardWeights, batch, width, width));
                        }
                    break;
                default:
                    Console.Error.WriteLine($"--gemm: unknown shape group '{group}' (conv, mlp, wide).");
                    return 2;
            }
        if (only is not null) cases.RemoveAll(c => !c.Name.Contains(only, StringComparison.Ordinal));

        double peak = FmaPeakOneThread(), bandwidth = ReadBandwidthOneThread();
        Console.WriteLine($"# GEMM micro-benchmark, 1 thread, ISA path {isa}; FMA peak (best 0.15-ms slice) {peak:F1} GFLOP/s; memory read (best pass over 256 MiB) {bandwidth:F1} GB/s");
        Console.WriteLine($"# {"product",-22} {"rows",6} {"k",6} {"n",6} {"min µs",11} {"GFLOP/s",9} {"% peak",7} {"floor µs",10} {"% floor",7}");
        foreach (Case c in cases)
        {
            double best = isa switch
            {
                "avx2" => Measure<Avx2Path>(c, seconds),
                "portable" => Measure<PortablePath>(c, seconds),
                _ => Measure<Avx512Path>(c, seconds),
            };
            double flop = 2.0 * c.Rows * c.K * c.N * c.Blocks;
            double gflops = flop / best * 1e-9;
            double floor = Math.Max(flop / (peak * 1e9), 4.0 * c.K * c.N / (bandwidth * 1e9));
            Console.WriteLine($"  {c.Group + " " + c.Name,-22} {c.Rows * c.Blocks,6} {c.K,6} {c.N,6} {best * 1e6,11:F1} {gflops,9:F1} {100 * gflops / peak,6:F1}% {floor * 1e6,10:F1} {100 * floor / best,6:F1}%");
        }
        return 0;
    }

    /// <summary>Minimum seconds of one product (all its blocks) over repetitions filling about <paramref name="seconds"/>.</summary>
    private static double Measure<TIsa>(Case c, double seconds) where TIsa : struct, ISimdPath
    {
        var rnd = new Random(7);
        int a = c.Op == Op.BackwardInput ? c.N : c.K;   // x is rows × k; dy is rows × n
        var x = Filled(rnd, (long)c.Rows * a * c.Blocks);
        var w = Filled(rnd, (long)c.K * c.N);
        var y = Filled(rnd, (long)c.Rows * c.N * c.Blocks);
        var outBuf = new AlignedFloats(checked(c.Op switch { Op.Forward => c.Rows * c.N, Op.BackwardInput => c.Rows * c.K, _ => c.K * c.N }));
        void Once()
        {
            switch (c.Op)
            {
                case Op.Forward:
                    Gemm.Forward<TIsa, NoEpilogue>(x.Span, w.Span, outBuf.Span, c.Rows, c.K, c.N, default);
                    break;
                case Op.BackwardInput:
                    Gemm.BackwardInput<TIsa>(x.Span, w.Span, outBuf.Span, c.Rows, c.K, c.N);
                    break;
                default:
                    var sink = new NoPanelSink();
                    for (int b = 0; b < c.Blocks; b++)
                        Gemm.BackwardWeights<TIsa, NoPanelSink>(x.Span.Slice(b * c.Rows * c.K, c.Rows * c.K), y.Span.Slice(b * c.Rows * c.N, c.Rows * c.N),
                            outBuf.Span, c.Rows, c.K, c.N, 0, c.K, ref sink);
                    break;
            }
        }
        Once();
        double best = double.MaxValue;
        long start = Stopwatch.GetTimestamp();
        int reps = 0;
        while (reps < 5 || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            long t0 = Stopwatch.GetTimestamp();
            Once();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            reps++;
        }
        return best;
    }

    private static AlignedFloats Filled(Random rnd, long length)
    {
        var f = new AlignedFloats(checked((int)length));
        Span<float> s = f.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rnd.NextDouble() - 0.5);
        return f;
    }

    /// <summary>
    /// Best GB/s of one thread summing a 256-MiB buffer (far beyond every cache) with four independent vector chains,
    /// over passes filling about 0.6 s: the rate at which a product can read an operand that fits no cache.
    /// </summary>
    private static double ReadBandwidthOneThread()
    {
        var buffer = new AlignedFloats(64 << 20);
        buffer.Span.Fill(1f);
        double best = double.MaxValue, sink = 0;
        long start = Stopwatch.GetTimestamp();
        int passes = 0;
        while (passes < 3 || Stopwatch.GetElapsedTime(start).TotalSeconds < 0.6)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += SumAll(buffer.Span);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            passes++;
        }
        if (sink != (double)buffer.Span.Length * passes) throw new InvalidOperationException("The bandwidth probe summed the wrong value.");
        return 4.0 * buffer.Span.Length / best * 1e-9;
    }

    private static float SumAll(ReadOnlySpan<float> s)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 32 <= s.Length; i += 32)
        {
            a0 += Vector256.Create(s.Slice(i, 8));
            a1 += Vector256.Create(s.Slice(i + 8, 8));
            a2 += Vector256.Create(s.Slice(i + 16, 8));
            a3 += Vector256.Create(s.Slice(i + 24, 8));
        }
        float sum = Vector256.Sum(a0 + a1 + a2 + a3);
        for (; i < s.Length; i++) sum += s[i];
        return sum;
    }

    /// <summary>Best GFLOP/s of <see cref="FmaPeak.Loop(long)"/> over 0.15-ms slices for about 0.3 s.</summary>
    private static double FmaPeakOneThread()
    {
        const long Iterations = 1 << 16;
        double flop = Iterations * FmaPeak.Chains * 2.0 * (Vector512.IsHardwareAccelerated ? 16 : 8), best = double.MaxValue;
        FmaPeak.Loop(Iterations);
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < 0.3)
        {
            long t0 = Stopwatch.GetTimestamp();
            FmaPeak.Loop(Iterations);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return flop / best * 1e-9;
    }
}
