using System;

namespace Kiln.Kernels;

/// <summary>
/// The shape of one 2-D convolution over an NHWC sample (Channels·Height·Width floats): kernel, stride,
/// zero padding and dilation per axis. Output sizes follow the usual floor formula
/// OutHeight = (Height + 2·PadH − DilationH·(KernelH−1) − 1) / StrideH + 1.
/// </summary>
/// <remarks>The derived sizes are computed properties (not stored), so a <c>with</c> copy never carries stale values.</remarks>
public readonly record struct ConvGeometry(int Channels, int Height, int Width, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    /// <summary>Output rows.</summary>
    public int OutHeight => OutSize(Height, KernelH, StrideH, PadH, DilationH);
    /// <summary>Output columns.</summary>
    public int OutWidth => OutSize(Width, KernelW, StrideW, PadW, DilationW);
    /// <summary>OutHeight·OutWidth: the im2col rows per sample.</summary>
    public int OutPixels => OutHeight * OutWidth;
    /// <summary>KernelH·KernelW·Channels: the im2col row length (patch order ky, kx, c).</summary>
    public int PatchSize => KernelH * KernelW * Channels;
    /// <summary>Channels·Height·Width: floats per input sample.</summary>
    public int InputSize => Channels * Height * Width;

    private static int OutSize(int size, int kernel, int stride, int pad, int dilation)
    {
        int span = size + 2 * pad - dilation * (kernel - 1) - 1;
        // Floor division (a negative span means the kernel does not fit: no output, caught by Validate).
        return stride <= 0 ? 0 : span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>Throws unless every size is usable and the kernel fits at least once on each axis.</summary>
    internal void Validate(string name)
    {
        Positive(Channels, nameof(Channels), name); Positive(Height, nameof(Height), name); Positive(Width, nameof(Width), name);
        Positive(KernelH, nameof(KernelH), name); Positive(KernelW, nameof(KernelW), name);
        Positive(StrideH, nameof(StrideH), name); Positive(StrideW, nameof(StrideW), name);
        Positive(DilationH, nameof(DilationH), name); Positive(DilationW, nameof(DilationW), name);
        if (PadH < 0 || PadW < 0) throw new ArgumentException($"{name}: padding must not be negative (PadH={PadH}, PadW={PadW}).", name);
        if (OutHeight < 1 || OutWidth < 1)
            throw new ArgumentException($"{name}: the {KernelH}×{KernelW} kernel (dilation {DilationH}×{DilationW}) does not fit the padded {Height}×{Width} input (pad {PadH}×{PadW}).", name);
        if ((long)OutPixels * PatchSize > int.MaxValue || (long)Channels * Height * Width > int.MaxValue)
            throw new ArgumentException($"{name}: the per-sample sizes overflow an int.", name);
    }

    internal static void Positive(int value, string what, string name)
    {
        if (value < 1) throw new ArgumentException($"{name}: {what} must be at least 1 (got {value}).", name);
    }
}

/// <summary>
/// The shape of one 2-D pooling over an NHWC sample: window, stride and padding per axis.
/// OutHeight = floor((Height + 2·PadH − SizeH) / StrideH) + 1. Padding is never part of a window's
/// value (max ignores it, average does not count it), so a window must reach the input: Pad ≤ Size/2.
/// </summary>
public readonly record struct PoolGeometry(int Channels, int Height, int Width, int SizeH, int SizeW,
    int StrideH, int StrideW, int PadH, int PadW)
{
    /// <summary>Output rows.</summary>
    public int OutHeight => StrideH <= 0 || Height + 2 * PadH < SizeH ? 0 : (Height + 2 * PadH - SizeH) / StrideH + 1;
    /// <summary>Output columns.</summary>
    public int OutWidth => StrideW <= 0 || Width + 2 * PadW < SizeW ? 0 : (Width + 2 * PadW - SizeW) / StrideW + 1;
    /// <summary>Channels·Height·Width: floats per input sample.</summary>
    public int InputSize => Channels * Height * Width;
    /// <summary>Channels·OutHeight·OutWidth: floats per output sample.</summary>
    public int OutputSize => Channels * OutHeight * OutWidth;

    /// <summary>Throws unless every size is usable, each window overlaps the input and the window fits at least once.</summary>
    internal void Validate(string name)
    {
        ConvGeometry.Positive(Channels, nameof(Channels), name); ConvGeometry.Positive(Height, nameof(Height), name); ConvGeometry.Positive(Width, nameof(Width), name);
        ConvGeometry.Positive(SizeH, nameof(SizeH), name); ConvGeometry.Positive(SizeW, nameof(SizeW), name);
        ConvGeometry.Positive(StrideH, nameof(StrideH), name); ConvGeometry.Positive(StrideW, nameof(StrideW), name);
        if (PadH < 0 || PadW < 0 || 2 * PadH > SizeH || 2 * PadW > SizeW)
            throw new ArgumentException($"{name}: padding must be in [0, size/2] so every window overlaps the input (PadH={PadH}, PadW={PadW}, window {SizeH}×{SizeW}).", name);
        if (OutHeight < 1 || OutWidth < 1)
            throw new ArgumentException($"{name}: the {SizeH}×{SizeW} window does not fit the padded {Height}×{Width} input (pad {PadH}×{PadW}).", name);
        if ((long)Channels * Height * Width > int.MaxValue)
            throw new ArgumentException($"{name}: the per-sample size overflows an int.", name);
    }
}
