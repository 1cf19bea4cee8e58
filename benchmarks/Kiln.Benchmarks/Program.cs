using System;
using BenchmarkDotNet.Running;

namespace Kiln.Benchmarks;

public static class Program
{
    /// <summary>
    /// <c>--quick-json [options]</c>: the four headline figures as JSON for peers/compare.sh
    /// (see <see cref="QuickJson"/>); <c>--fma-peak [options]</c>: the machine's FMA peak on 1 and N threads as JSON
    /// (see <see cref="FmaPeak"/>); <c>--gemm [options]</c>: GEMM micro-benchmark (see <see cref="GemmBench"/>); <c>--limits [options]</c>: the machine's
    /// FMA peak, cache and DRAM bandwidth, cross-thread latencies and the benchmark models' work as JSON (see
    /// <see cref="Limits"/>); anything else goes to BenchmarkDotNet's switcher
    /// (<c>--filter '*'</c>, <c>--list flat</c>, <c>--job default</c>, ...).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--quick-json")
            return QuickJson.Run(args.AsSpan(1).ToArray());
        if (args.Length > 0 && args[0] == "--fma-peak")
            return FmaPeak.Run(args.AsSpan(1).ToArray());
        if (args.Length > 0 && args[0] == "--gemm")
            return GemmBench.Run(args.AsSpan(1).ToArray());
        if (args.Length > 0 && args[0] == "--limits")
            return Limits.Run(args.AsSpan(1).ToArray());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
