using System;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace Kiln.LowPrecision;

/// <summary>
/// y = x·W + b for one Dense (or one Conv2D's im2col rows) in the chosen precision. W is [K, O] row-major, BatchNorm
/// already folded in. The float32 weights are kept only until <see cref="Finish"/> (they run the calibration pass).
/// </summary>
internal sealed class LowPrecisionLinear
{
    private float[]? _w32;
    private double _calibratedMax;
    private uint[] _bf16 = [];
    private sbyte[] _wq = [];
    private int[] _columnSums = [];
    private float[] _outScale = [];

    public LowPrecisionLinear(string layer, float[] w, float[] bias, int k, int o)
    {
        Layer = layer;
        K = k;
        O = o;
        Bias = bias;
        _w32 = w;
    }

    /// <summary>The layer name (for errors and reports).</summary>
    public string Layer { get; }
    /// <summary>Inputs.</summary>
    public int K { get; }
    /// <summary>Outputs.</summary>
    public int O { get; }
    /// <summary>The float32 bias (b is added after the dequantisation).</summary>
    public float[] Bias { get; }
    /// <summary>The precision after <see cref="Finish"/>; float32 until then.</summary>
    public Precision? Precision { get; private set; }
    /// <summary>The int8 input scale sx (x ≈ q·sx).</summary>
    public float InputScale { get; private set; } = 1;
    /// <summary>Per-output int8 weight scales sw[o] (W[k, o] ≈ q·sw[o]).</summary>
    public float[] WeightScales { get; private set; } = [];
    /// <summary>Padded outputs of the current packing.</summary>
    public int PaddedOutputs => Precision == LowPrecision.Precision.Int8 ? Int8Gemm.PaddedOutputs(O) : Bf16Gemm.PaddedOutputs(O);
    /// <summary>Padded depth of the int8 packing.</summary>
    public int PaddedDepth => Int8Gemm.PaddedDepth(K);
    /// <summary>The packed bf16 weights.</summary>
    internal ReadOnlySpan<uint> Bf16Weights => _bf16;
    /// <summary>The packed int8 weights.</summary>
    internal ReadOnlySpan<sbyte> Int8Weights => _wq;

    /// <summary>Converts the weights; int8 needs the largest |input| seen in calibration (<see cref="Observe"/>).</summary>
    public void Finish(Precision precision, double inputMaxAbs = double.NaN)
    {
        float[] w = _w32 ?? throw new InvalidOperationException($"{Layer} is already converted.");
        Precision = precision;
        if (precision == LowPrecision.Precision.BFloat16)
            _bf16 = Bf16Gemm.Pack(w, K, O);
        else
        {
            double max = double.IsNaN(inputMaxAbs) ? _calibratedMax : inputMaxAbs;
            InputScale = Quantization.Scale(max);
            WeightScales = new float[O];
            var q = new sbyte[K * O];
            for (int o = 0; o < O; o++)
            {
                double wmax = 0;
                for (int k = 0; k < K; k++) wmax = Math.Max(wmax, Math.Abs(w[k * O + o]));
                float s = WeightScales[o] = Quantization.Scale(wmax);
                float inverse = 1 / s;
                for (int k = 0; k < K; k++) q[k * O + o] = Quantization.Quantize(w[k * O + o], inverse);
            }
            _wq = Int8Gemm.Pack(q, K, O);
            _columnSums = Int8Gemm.ColumnSums(_wq, PaddedDepth, PaddedOutputs);
            _outScale = new float[O];
            for (int o = 0; o < O; o++) _outScale[o] = InputScale * WeightScales[o];
        }
        _w32 = null;
    }

    /// <summary>Records the input's largest magnitude during calibration.</summary>
    public void Observe(ReadOnlySpan<float> x, int ldx, int m)
    {
        for (int r = 0; r < m; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * ldx, K);
            float a = TensorPrimitives.MaxMagnitude(row);
            if (float.IsNaN(a)) continue;
            _calibratedMax = Math.Max(_calibratedMax, Math.Abs(a));
        }
    }

    /// <summary>The largest |input| observed so far.</summary>
    public double CalibratedMax => _calibratedMax;

    /// <summary>
    /// Y = X·W + b for <paramref name="m"/> rows of X (stride <paramref name="ldx"/>), written row-major (y[r·O + o])
    /// or, with <paramref name="transposed"/>, output-major (y[o·m + r], a Conv2D's NCHW plane).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    public void Forward(LowPrecisionPath path, ReadOnlySpan<float> x, int ldx, int m, Span<float> y, bool transposed, Workspace ws, bool calibrating)
    {
        if (_w32 is float[] w32)
        {
            if (calibrating) Observe(x, ldx, m);
            Span<float> acc = ws.Floats(m * O);
            acc.Clear();
            for (int r = 0; r < m; r++)
                for (int k = 0; k < K; k++)
                    TensorPrimitives.MultiplyAdd(w32.AsSpan(k * O, O), x[r * ldx + k], acc.Slice(r * O, O), acc.Slice(r * O, O));
            Store(acc, O, m, y, transposed, scale: null);
            return;
        }
        int op = PaddedOutputs;
        if (Precision == LowPrecision.Precision.BFloat16)
        {
            Span<float> acc = ws.Floats(m * op);
            Bf16Gemm.Multiply(path, x, ldx, _bf16, acc, m, K, op);
            Store(acc, op, m, y, transposed, scale: null);
        }
        else
        {
            int kp = PaddedDepth;
            Span<sbyte> q = ws.Bytes(m * kp);
            Quantization.QuantizeRows(x, ldx, m, K, 1 / InputScale, q, kp);
            Span<int> acc = ws.Ints(m * op);
            Int8Gemm.Multiply(path, q, _wq, _columnSums, acc, m, kp, op, ws);
            Span<float> accF = ws.Floats(m * op);
            TensorPrimitives.ConvertTruncating<int, float>(acc, accF);
            Store(accF, op, m, y, transposed, _outScale);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private void Store(ReadOnlySpan<float> acc, int ld, int m, Span<float> y, bool transposed, float[]? scale)
    {
        if (!transposed)
        {
            for (int r = 0; r < m; r++)
            {
                Span<float> dst = y.Slice(r * O, O);
                if (scale is null) TensorPrimitives.Add(acc.Slice(r * ld, O), Bias, dst);
                else TensorPrimitives.FusedMultiplyAdd(acc.Slice(r * ld, O), scale, Bias, dst);
            }
            return;
        }
        for (int o = 0; o < O; o++)
        {
            float s = scale is null ? 1 : scale[o], b = Bias[o];
            Span<float> dst = y.Slice(o * m, m);
            for (int r = 0; r < m; r++) dst[r] = MathF.FusedMultiplyAdd(acc[r * ld + o], s, b);
        }
    }
}

/// <summary>Grow-only scratch buffers of one predictor (not shared between threads).</summary>
internal sealed class Workspace
{
    private float[] _floats = [];
    private float[] _columns = [];
    private int[] _ints = [];
    private int[] _packed = [];
    private sbyte[] _bytes = [];

    public Span<float> Floats(int n) => Grow(ref _floats, n);
    public Span<float> Columns(int n) => Grow(ref _columns, n);
    public Span<int> Ints(int n) => Grow(ref _ints, n);
    public Span<int> Packed(int n) => Grow(ref _packed, n);
    public Span<sbyte> Bytes(int n) => Grow(ref _bytes, n);

    private static Span<T> Grow<T>(ref T[] buffer, int n)
    {
        if (buffer.Length < n) buffer = new T[Math.Max(n, buffer.Length * 2)];
        return buffer.AsSpan(0, n);
    }
}
