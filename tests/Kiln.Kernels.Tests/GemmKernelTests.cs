using System;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The one GEMM micro-kernel source (<see cref="GemmKernel{TO, TV}"/>) at every width VectorPath maps a path to, called
/// directly for every tile shape (rows 1–6 × whole and partial vectors up to the path's tile width, rows 7–12 of the
/// tall tile × its narrow widths, with and without accumulation, strided A as in dW) and every GEMV strip, against naive double loops; NaN sentinels around C check
/// that partial vectors neither read nor write past the tile.
/// </summary>
public sealed unsafe class GemmKernelTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void TilesMatchReference(IsaPath path) => Isa.Invoke(this, nameof(TilesCore), path);

    [Theory, MemberData(nameof(Paths))]
    public void GemvStripsMatchReference(IsaPath path) => Isa.Invoke(this, nameof(GemvCore), path);

    [Theory, MemberData(nameof(Paths))]
    public void DotRowsMatchReference(IsaPath path) => Isa.Invoke(this, nameof(DotRowsCore), path);

    [Fact]
    public void PathsMapToTheirWidth()
    {
        Assert.Equal(16, VectorPath.Lanes<Avx512Path>());
        Assert.Equal(8, VectorPath.Lanes<Avx2Path>());
        Assert.Equal(4, VectorPath.Lanes<PortablePath>());
        var probe = new WidthProbe();
        Assert.Equal(64, VectorPath.Run<Avx512Path, WidthProbe>(ref probe));
        Assert.Equal(32, VectorPath.Run<Avx2Path, WidthProbe>(ref probe));
        Assert.Equal(16, VectorPath.Run<PortablePath, WidthProbe>(ref probe));
        Assert.Equal(4, Ops512.TileVectors);
        Assert.Equal(2, Ops256.TileVectors);
        Assert.Equal(2, Ops128.TileVectors);
        Assert.Equal(2, GemmKernel<Ops512, Vector512<float>>.TallVectors);
        Assert.Equal(1, GemmKernel<Ops256, Vector256<float>>.TallVectors);
        Assert.Equal(12, GemmKernel<Ops512, Vector512<float>>.RowsFor(2));
        Assert.Equal(6, GemmKernel<Ops512, Vector512<float>>.RowsFor(3));
        Assert.Equal(6, GemmKernel<Ops512, Vector512<float>>.RowsFor(1));
        Assert.Equal(6, GemmKernel<Ops128, Vector128<float>>.RowsFor(2));
    }

    private struct WidthProbe : IVectorKernel
    {
        public readonly int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct => System.Runtime.CompilerServices.Unsafe.SizeOf<TV>();
    }

    private void TilesCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var probe = new TileProbe();
        VectorPath.Run<TIsa, TileProbe>(ref probe);
    }

    private void GemvCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var probe = new GemvProbe();
        VectorPath.Run<TIsa, GemvProbe>(ref probe);
    }

    private void DotRowsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var probe = new DotRowsProbe();
        VectorPath.Run<TIsa, DotRowsProbe>(ref probe);
    }

    private struct TileProbe : IVectorKernel
    {
        public readonly int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            var rnd = new Random(31);
            int lanes = TO.Count;
            // Rows 1–6 at every strip width, and the tall tile's 7–12 rows at the narrow widths it takes.
            foreach (int kc in new[] { 1, 2, 7, 33 })
                for (int mr = 1; mr <= GemmKernel<TO, TV>.TallRows; mr++)
                    for (int nv = 1; nv <= (mr <= GemmKernel<TO, TV>.TileRows ? TO.TileVectors : GemmKernel<TO, TV>.TallVectors); nv++)
                        for (int last = 1; last <= lanes; last++)
                            foreach (bool accumulate in new[] { false, true })
                                foreach (bool strided in new[] { false, true })
                                    CheckTile<TO, TV>(rnd, kc, mr, nv, last, accumulate, strided);
            return 0;
        }
    }

    private static void CheckTile<TO, TV>(Random rnd, int kc, int mr, int nv, int last, bool accumulate, bool strided)
        where TO : struct, IPathOps<TV> where TV : struct
    {
        int cols = (nv - 1) * TO.Count + last, ldb = cols + 3, ldc = cols + 5;
        // A(m, p) = a[m·ars + p·acs]: rows of x (ars = kc, acs = 1) or columns of xᵀ as in dW (ars = 1, acs = mr).
        nint ars = strided ? 1 : kc, acs = strided ? mr : 1;
        float[] a = Data.Uniform(rnd, mr * kc, -1, 1), b = Data.Uniform(rnd, kc * ldb, -1, 1);
        float[] c = Data.Filled(mr * ldc + 1, float.NaN);
        double[] expected = new double[mr * cols], scale = new double[mr * cols];
        for (int m = 0; m < mr; m++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0, abs = 0;
                if (accumulate) { c[m * ldc + j] = (float)(rnd.NextDouble() - 0.5); s = c[m * ldc + j]; abs = Math.Abs(s); }
                for (int p = 0; p < kc; p++)
                {
                    double t = (double)a[m * ars + p * acs] * b[p * ldb + j];
                    s += t;
                    abs += Math.Abs(t);
                }
                expected[m * cols + j] = s;
                scale[m * cols + j] = abs;
            }
        NoEpilogue none = default;
        // The strided (dW) case also passes a prefetch pointer, as BackwardWeights' tall panels do: a hint that must not change C.
        fixed (float* pa = a, pb = b, pc = c)
            GemmKernel<TO, TV>.Tile(mr, nv, last, pa, ars, acs, pb, ldb, pc, ldc, kc, 0, accumulate, false, ref none, strided ? pa + 1 : null);
        string ctx = $"{typeof(TO).Name} kc={kc} mr={mr} nv={nv} last={last} accumulate={accumulate} strided={strided}";
        float[] got = new float[mr * cols];
        for (int m = 0; m < mr; m++)
        {
            for (int j = 0; j < cols; j++) got[m * cols + j] = c[m * ldc + j];
            for (int j = cols; j < ldc && m * ldc + j < c.Length; j++)
                Assert.True(float.IsNaN(c[m * ldc + j]), $"{ctx}: wrote column {j} of row {m}, past the tile");
        }
        Near.Scaled(got, expected, scale, 1e-6, 1e-5, ctx);
    }

    private struct GemvProbe : IVectorKernel
    {
        public readonly int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            var rnd = new Random(32);
            int lanes = TO.Count;
            foreach (int k in new[] { 1, 2, 5, 64 })
            {
                // The narrow strips (two k chains, partial last vector) with a bias epilogue ...
                for (int nv = 1; nv <= 4; nv++)
                    for (int last = 1; last <= lanes; last++)
                        CheckGemv<TO, TV>(rnd, k, (nv - 1) * lanes + last, wide: false);
                // ... and the wide strips that stream whole rows of B.
                for (int wnv = 8; wnv <= TO.GemvWideVectors; wnv += 4)
                    CheckGemv<TO, TV>(rnd, k, wnv * lanes, wide: true);
            }
            return 0;
        }
    }

    private static void CheckGemv<TO, TV>(Random rnd, int k, int cols, bool wide) where TO : struct, IPathOps<TV> where TV : struct
    {
        int ldb = cols + 7;
        float[] x = Data.Uniform(rnd, k, -1, 1), b = Data.Uniform(rnd, k * ldb, -1, 1), bias = Data.Uniform(rnd, cols, -1, 1);
        float[] c = Data.Filled(cols + 1, float.NaN);
        double[] expected = new double[cols], scale = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            double s = wide ? 0 : bias[j], abs = Math.Abs(s);
            for (int p = 0; p < k; p++) { double t = (double)x[p] * b[p * ldb + j]; s += t; abs += Math.Abs(t); }
            expected[j] = s;
            scale[j] = abs;
        }
        var epi = new BiasEpilogue(bias);
        fixed (float* px = x, pb = b, pc = c)
        {
            if (wide) GemmKernel<TO, TV>.GemvWide(cols / TO.Count, px, pb, ldb, pc, k);
            else
            {
                TileDispatch.Split(cols, TO.Count, out int nv, out int last);
                GemmKernel<TO, TV>.Gemv(nv, last, px, pb, ldb, pc, k, 0, true, ref epi);
            }
        }
        string ctx = $"{typeof(TO).Name} k={k} cols={cols} wide={wide}";
        Assert.True(float.IsNaN(c[cols]), $"{ctx}: wrote past the strip");
        Near.Scaled(c.AsSpan(0, cols), expected, scale, 1e-6, 1e-5, ctx);
    }

    private struct DotRowsProbe : IVectorKernel
    {
        public readonly int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            var rnd = new Random(33);
            foreach (int n in new[] { 1, 3, TO.Count, 2 * TO.Count + 1, 100 })
                foreach (int count in new[] { 1, 4, 7 })
                {
                    float[] v = Data.Uniform(rnd, n, -1, 1), m = Data.Uniform(rnd, count * n, -1, 1), result = Data.Filled(count + 1, float.NaN);
                    double[] expected = new double[count], scale = new double[count];
                    for (int i = 0; i < count; i++)
                        for (int j = 0; j < n; j++) { double t = (double)v[j] * m[i * n + j]; expected[i] += t; scale[i] += Math.Abs(t); }
                    fixed (float* pv = v, pm = m, pr = result) GemmKernel<TO, TV>.DotRows(pv, pm, n, pr, count);
                    string ctx = $"{typeof(TO).Name} n={n} count={count}";
                    Assert.True(float.IsNaN(result[count]), $"{ctx}: wrote past the result");
                    Near.Scaled(result.AsSpan(0, count), expected, scale, 1e-6, 1e-5, ctx);
                }
            return 0;
        }
    }
}
