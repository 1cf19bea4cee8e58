using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>Straightforward double-precision references for the convolution kernels, written from the formulas.</summary>
internal static class ConvReference
{
    /// <summary>The position of x(s, c, h, w) in an NHWC or (channelsFirst) NCHW batch.</summary>
    public static int Index(int s, int c, int h, int w, int channels, int height, int width, bool channelsFirst) =>
        channelsFirst ? ((s * channels + c) * height + h) * width + w : ((s * height + h) * width + w) * channels + c;

    /// <summary>
    /// Calls visit(col index, x index or −1 outside the input) for every im2col entry of every sample,
    /// straight from the definition col[(s·OP + oy·OW + ox)·PS + (ky·KW + kx)·C + c] = x(s, c, iy, ix).
    /// </summary>
    private static void ForEachPatchEntry(ConvGeometry g, bool channelsFirst, int samples, Action<int, int> visit)
    {
        int oh = (g.Height + 2 * g.PadH - g.DilationH * (g.KernelH - 1) - 1) / g.StrideH + 1;
        int ow = (g.Width + 2 * g.PadW - g.DilationW * (g.KernelW - 1) - 1) / g.StrideW + 1;
        int patch = g.KernelH * g.KernelW * g.Channels;
        for (int s = 0; s < samples; s++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ky = 0; ky < g.KernelH; ky++)
                        for (int kx = 0; kx < g.KernelW; kx++)
                            for (int c = 0; c < g.Channels; c++)
                            {
                                int iy = oy * g.StrideH - g.PadH + ky * g.DilationH, ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                                bool inside = iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width;
                                visit((s * oh * ow + oy * ow + ox) * patch + (ky * g.KernelW + kx) * g.Channels + c,
                                    inside ? Index(s, c, iy, ix, g.Channels, g.Height, g.Width, channelsFirst) : -1);
                            }
    }

    /// <summary>The im2col matrix of x (zeros outside the input).</summary>
    public static double[] Im2Col(float[] x, ConvGeometry g, bool channelsFirst, int samples)
    {
        var col = new double[samples * g.OutPixels * g.PatchSize];
        ForEachPatchEntry(g, channelsFirst, samples, (ci, xi) => col[ci] = xi >= 0 ? x[xi] : 0);
        return col;
    }

    /// <summary>The adjoint: dx(s, c, iy, ix) = Σ of the dcol entries that read it, scattered entry by entry.</summary>
    public static double[] Col2Im(float[] dcol, ConvGeometry g, bool channelsFirst, int samples)
    {
        var dx = new double[samples * g.InputSize];
        ForEachPatchEntry(g, channelsFirst, samples, (ci, xi) => { if (xi >= 0) dx[xi] += dcol[ci]; });
        return dx;
    }

    /// <summary>Max pooling: value and the NHWC in-sample index of the first maximum in row-major window order.</summary>
    public static (double[] Y, int[] Arg) MaxPool(float[] x, PoolGeometry g, int samples)
    {
        int oh = (g.Height + 2 * g.PadH - g.SizeH) / g.StrideH + 1, ow = (g.Width + 2 * g.PadW - g.SizeW) / g.StrideW + 1;
        var y = new double[samples * oh * ow * g.Channels];
        var arg = new int[y.Length];
        for (int s = 0; s < samples; s++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < g.Channels; c++)
                    {
                        double best = double.NegativeInfinity;
                        int at = -1;
                        for (int wy = 0; wy < g.SizeH; wy++)
                            for (int wx = 0; wx < g.SizeW; wx++)
                            {
                                int iy = oy * g.StrideH - g.PadH + wy, ix = ox * g.StrideW - g.PadW + wx;
                                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                int i = (iy * g.Width + ix) * g.Channels + c;
                                double v = x[s * g.InputSize + i];
                                if (v > best) { best = v; at = i; }
                            }
                        int o = ((s * oh + oy) * ow + ox) * g.Channels + c;
                        y[o] = best;
                        arg[o] = at;
                    }
        return (y, arg);
    }

    /// <summary>Average pooling over in-bounds elements; also returns the adjoint applied to dy.</summary>
    public static double[] AvgPool(float[] x, PoolGeometry g, int samples)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[samples * oh * ow * g.Channels];
        ForEachWindow(g, samples, (s, o, c, inputs) =>
        {
            double sum = 0;
            foreach (int i in inputs) sum += x[s * g.InputSize + i];
            y[o] = sum / inputs.Count;
        });
        return y;
    }

    public static double[] AvgPoolBackward(float[] dy, PoolGeometry g, int samples)
    {
        var dx = new double[samples * g.InputSize];
        ForEachWindow(g, samples, (s, o, c, inputs) =>
        {
            foreach (int i in inputs) dx[s * g.InputSize + i] += dy[o] / inputs.Count;
        });
        return dx;
    }

    /// <summary>Calls body(sample, output index, channel, in-sample input indices of the window's in-bounds elements).</summary>
    private static void ForEachWindow(PoolGeometry g, int samples, Action<int, int, int, System.Collections.Generic.List<int>> body)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var inputs = new System.Collections.Generic.List<int>();
        for (int s = 0; s < samples; s++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int c = 0; c < g.Channels; c++)
                    {
                        inputs.Clear();
                        for (int wy = 0; wy < g.SizeH; wy++)
                            for (int wx = 0; wx < g.SizeW; wx++)
                            {
                                int iy = oy * g.StrideH - g.PadH + wy, ix = ox * g.StrideW - g.PadW + wx;
                                if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width) inputs.Add((iy * g.Width + ix) * g.Channels + c);
                            }
                        body(s, ((s * oh + oy) * ow + ox) * g.Channels + c, c, inputs);
                    }
    }

    public static double Dot(float[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < b.Length; i++) s += a[i] * b[i];
        return s;
    }

    public static double Dot(float[] a, float[] b, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
        return s;
    }
}
