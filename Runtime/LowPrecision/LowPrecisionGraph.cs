using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.Linq;
using System.Numerics.Tensors;
using Kiln.Interop;
using Kiln.Interop.Onnx;

namespace Kiln.LowPrecision;

/// <summary>
/// The inference graph of a model, read from the graph <see cref="OnnxExport"/> writes for it: the exporter's walk
/// over the architecture and tensors (BatchNorm folded into the Dense/Conv2D before it, Conv2D weights in OIHW,
/// dropout as at test, the flatten order of Kiln's channels-last activations) is reused as it is, and this class runs
/// that graph with the Dense and Conv2D products in bf16 or int8. Activations are float32 (NCHW when spatial) between
/// the products. Only the operators the supported layers export to are accepted; anything else is a
/// <see cref="LowPrecisionException"/> naming the layer.
/// </summary>
internal sealed class LowPrecisionGraph
{
    private readonly List<Step> _steps = [];
    private readonly List<int> _sizes = []; // per-sample size of each buffer
    private float[][] _buffers = [];
    private int _capacity;
    private readonly int _outputBuffer;
    private readonly Workspace _workspace = new();

    public LowPrecisionGraph(IKilnModel model)
    {
        ModelName = model.ModelName;
        InputSize = model.InputSize;
        OutputSize = model.OutputSize;
        ModelArchitecture architecture = model.Architecture
            ?? throw new LowPrecisionException($"{model.ModelName} has no architecture description (IKilnModel.Architecture is null): rebuild it with a Kiln generator that emits one.");
        string[] layerNames = architecture.Layers.Select(l => l.Name).OrderByDescending(n => n.Length).ToArray();
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(model, new OnnxExportOptions { FoldBatchNorm = true }));
        }
        catch (OnnxExportException e)
        {
            throw new LowPrecisionException($"{model.ModelName} cannot run in low precision: {e.Message}", e.Layer);
        }
        GraphProto graph = proto.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, (int Buffer, int[] Shape)>(StringComparer.Ordinal)
        {
            [graph.Input[0].Name] = (NewBuffer(InputSize), [InputSize]),
        };
        foreach (NodeProto node in graph.Node)
        {
            string layer = layerNames.FirstOrDefault(n => node.Name == n || node.Name.StartsWith(n + "_", StringComparison.Ordinal)) ?? node.Name;
            var builder = new NodeBuilder(this, node, layer, initializers, values);
            (int buffer, int[] shape) = builder.Build();
            values[node.Output[0]] = (buffer, shape);
        }
        (int output, int[] outShape) = values[graph.Output[0].Name];
        if (Size(outShape) != OutputSize)
            throw new LowPrecisionException($"{ModelName}: the graph ends with {Size(outShape)} values per sample but the model outputs {OutputSize}.");
        _outputBuffer = output;
    }

    public string ModelName { get; }
    public int InputSize { get; }
    public int OutputSize { get; }
    /// <summary>The Dense and Conv2D products, in order.</summary>
    public List<LowPrecisionLinear> Linears { get; } = [];

    private static int Size(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    private int NewBuffer(int perSample)
    {
        _sizes.Add(perSample);
        return _sizes.Count - 1;
    }

    /// <summary>Runs the graph: <paramref name="calibrating"/> runs float32 products and records their inputs' ranges.</summary>
    public void Run(ReadOnlySpan<float> inputs, Span<float> outputs, int batch, LowPrecisionPath bf16, LowPrecisionPath int8, bool calibrating)
    {
        if (batch > _capacity)
        {
            _capacity = Math.Max(batch, _capacity * 2);
            _buffers = _sizes.Select(s => new float[s * _capacity]).ToArray();
        }
        inputs[..(batch * InputSize)].CopyTo(_buffers[0]);
        var context = new Context(_buffers, batch, bf16, int8, calibrating, _workspace);
        foreach (Step step in _steps) step.Run(context);
        _buffers[_outputBuffer].AsSpan(0, batch * OutputSize).CopyTo(outputs);
    }

    internal readonly record struct Context(float[][] Buffers, int Batch, LowPrecisionPath Bf16, LowPrecisionPath Int8, bool Calibrating, Workspace Workspace);

    private abstract class Step
    {
        public abstract void Run(in Context c);
    }

    // ---------------------------------------------------------------- building

    private sealed class NodeBuilder(LowPrecisionGraph graph, NodeProto node, string layer,
        Dictionary<string, TensorProto> initializers, Dictionary<string, (int Buffer, int[] Shape)> values)
    {
        private Exception Unsupported(string what) =>
            new LowPrecisionException($"Layer {layer} of {graph.ModelName} cannot run in low precision: {what}.", layer);

        private (int Buffer, int[] Shape) Input(int i) => values.TryGetValue(node.Input[i], out var v)
            ? v
            : throw Unsupported($"its {node.OpType} input '{node.Input[i]}' is not an activation");

        private bool IsConstant(int i) => initializers.ContainsKey(node.Input[i]);

        private float[] Floats(int i)
        {
            TensorProto t = initializers[node.Input[i]];
            if (t.FloatData.Count > 0) return t.FloatData.ToArray();
            byte[] raw = t.RawData.ToByteArray();
            var data = new float[raw.Length / sizeof(float)];
            Buffer.BlockCopy(raw, 0, data, 0, raw.Length);
            return data;
        }

        private long[] Dims(int i) => initializers[node.Input[i]].Dims.ToArray();

        private AttributeProto? Attribute(string name) => node.Attribute.FirstOrDefault(a => a.Name == name);
        private long[] Ints(string name, params long[] fallback) => Attribute(name) is { } a ? a.Ints.ToArray() : fallback;
        private float Float(string name, float fallback) => Attribute(name) is { } a ? a.F : fallback;

        private (int, int[]) Emit(UnaryStep step, int[] shape)
        {
            graph._steps.Add(step);
            return (step.Output, shape);
        }

        public (int Buffer, int[] Shape) Build()
        {
            switch (node.OpType)
            {
                case "Identity": return Input(0);
                case "Flatten":
                {
                    var (b, s) = Input(0);
                    return (b, [Size(s)]);
                }
                case "Reshape":
                {
                    var (b, s) = Input(0);
                    long[] target = initializers.TryGetValue(node.Input[1], out TensorProto? t) ? t.Int64Data.ToArray() : throw Unsupported("a Reshape to a computed shape");
                    int[] shape = target.Skip(1).Select(d => (int)d).ToArray();
                    if (shape.Any(d => d <= 0) || Size(shape) != Size(s)) throw Unsupported("a Reshape that regroups the batch");
                    return (b, shape);
                }
                case "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Elu" or "Selu":
                {
                    var (b, s) = Input(0);
                    var step = new Unary(node.OpType, b, graph.NewBuffer(Size(s)), Size(s), Float("alpha", node.OpType == "LeakyRelu" ? 0.01f : 1f), Float("gamma", 1f));
                    return Emit(step, s);
                }
                case "Add" or "Sub" or "Mul" or "Div" or "PRelu": return Binary();
                case "Gemm" or "MatMul": return Dense();
                case "Conv": return Conv();
                case "MaxPool" or "AveragePool": return Pool();
                case "GlobalAveragePool":
                {
                    var (b, s) = Input(0);
                    if (s.Length != 3) throw Unsupported("GlobalAveragePool needs a (C, H, W) activation");
                    return Emit(new GlobalPool(b, graph.NewBuffer(s[0]), s[0], s[1] * s[2]), [s[0], 1, 1]);
                }
                case "Transpose":
                {
                    var (b, s) = Input(0);
                    if (s.Length != 3 || !Ints("perm").SequenceEqual([0L, 2, 3, 1])) throw Unsupported("only the NCHW → NHWC transpose before a Flatten is supported");
                    return Emit(new ToChannelsLast(b, graph.NewBuffer(Size(s)), s[0], s[1] * s[2]), [s[1], s[2], s[0]]);
                }
                case "Softmax":
                {
                    var (b, s) = Input(0);
                    if (s.Length != 1) throw Unsupported("Softmax on a spatial activation");
                    return Emit(new Softmax(b, graph.NewBuffer(s[0]), s[0]), s);
                }
                case "BatchNormalization":
                {
                    var (b, s) = Input(0);
                    float[] gamma = Floats(1), beta = Floats(2), mean = Floats(3), variance = Floats(4);
                    float epsilon = Float("epsilon", 1e-5f);
                    int channels = gamma.Length, plane = Size(s) / channels;
                    var scale = new float[Size(s)];
                    var shift = new float[Size(s)];
                    for (int ch = 0; ch < channels; ch++)
                    {
                        double a = gamma[ch] / Math.Sqrt(variance[ch] + (double)epsilon);
                        scale.AsSpan(ch * plane, plane).Fill((float)a);
                        shift.AsSpan(ch * plane, plane).Fill((float)(beta[ch] - mean[ch] * a));
                    }
                    return Emit(new Affine(b, graph.NewBuffer(Size(s)), scale, shift), s);
                }
                default:
                    throw Unsupported($"its exported form uses the operator {node.OpType}, which the low-precision runner does not implement");
            }
        }

        /// <summary>x ∘ c or x ∘ y: constants (scalars, per-channel [C,1,1], per-feature) are broadcast to one sample's shape.</summary>
        private (int, int[]) Binary()
        {
            bool firstConstant = IsConstant(0), secondConstant = IsConstant(1);
            if (firstConstant && secondConstant) throw Unsupported($"a {node.OpType} of two constants");
            if (!firstConstant && !secondConstant)
            {
                var (a, sa) = Input(0);
                var (b, sb) = Input(1);
                if (!sa.SequenceEqual(sb) || node.OpType == "PRelu") throw Unsupported($"a {node.OpType} of activations with different shapes");
                return Emit(new BinaryActivations(node.OpType, a, b, graph.NewBuffer(Size(sa)), Size(sa)), sa);
            }
            int xi = firstConstant ? 1 : 0;
            var (x, s) = Input(xi);
            float[] constant = Broadcast(Floats(1 - xi), Dims(1 - xi), s);
            return Emit(new BinaryConstant(node.OpType, x, graph.NewBuffer(Size(s)), constant, constantFirst: firstConstant), s);
        }

        private float[] Broadcast(float[] data, long[] dims, int[] shape)
        {
            if (dims.Length > shape.Length) throw Unsupported($"a {node.OpType} constant of rank {dims.Length} on an activation of rank {shape.Length}");
            var full = new float[Size(shape)];
            int offset = shape.Length - dims.Length;
            for (int d = 0; d < dims.Length; d++)
                if (dims[d] != 1 && dims[d] != shape[offset + d]) throw Unsupported($"a {node.OpType} constant that does not broadcast to the activation");
            var index = new int[shape.Length];
            for (int i = 0; i < full.Length; i++)
            {
                int rest = i, source = 0;
                for (int d = shape.Length - 1; d >= 0; d--) { index[d] = rest % shape[d]; rest /= shape[d]; }
                for (int d = 0; d < dims.Length; d++) source = source * (int)dims[d] + (dims[d] == 1 ? 0 : index[offset + d]);
                full[i] = data[source];
            }
            return full;
        }

        private (int, int[]) Dense()
        {
            var (x, s) = Input(0);
            long[] dims = Dims(1);
            if (s.Length != 1 || dims.Length != 2 || dims[0] != s[0]) throw Unsupported("its weight does not match a flat input");
            bool transposed = (Attribute("transA")?.I ?? 0) != 0 || (Attribute("transB")?.I ?? 0) != 0;
            if (transposed) throw Unsupported("a transposed Gemm");
            int k = (int)dims[0], o = (int)dims[1];
            float[] bias = node.Input.Count > 2 ? Floats(2) : new float[o];
            var linear = new LowPrecisionLinear(layer, Floats(1), bias, k, o);
            graph.Linears.Add(linear);
            return Emit(new DenseStep(linear, x, graph.NewBuffer(o)), [o]);
        }

        private (int, int[]) Conv()
        {
            var (x, s) = Input(0);
            long[] dims = Dims(1);
            if (s.Length != 3 || dims.Length != 4 || dims[1] != s[0]) throw Unsupported("its weight does not match a (C, H, W) input");
            int o = (int)dims[0], c = (int)dims[1], kh = (int)dims[2], kw = (int)dims[3];
            long[] strides = Ints("strides", 1, 1), pads = Ints("pads", 0, 0, 0, 0), dilations = Ints("dilations", 1, 1);
            if (strides[0] != strides[1] || dilations[0] != dilations[1] || pads.Distinct().Count() != 1 || (Attribute("group")?.I ?? 1) != 1)
                throw Unsupported("a Conv with unequal strides, pads or dilations, or groups");
            var geometry = new ConvGeometry(c, s[1], s[2], kh, kw, (int)strides[0], (int)pads[0], (int)dilations[0]);
            // OIHW → [K = C·kh·kw, O], the im2col rows' order.
            float[] oihw = Floats(1);
            int depth = c * kh * kw;
            var w = new float[depth * o];
            for (int oo = 0; oo < o; oo++)
                for (int k = 0; k < depth; k++) w[k * o + oo] = oihw[oo * depth + k];
            float[] bias = node.Input.Count > 2 ? Floats(2) : new float[o];
            var linear = new LowPrecisionLinear(layer, w, bias, depth, o);
            graph.Linears.Add(linear);
            int[] shape = [o, geometry.OutH, geometry.OutW];
            return Emit(new ConvStep(linear, geometry, x, graph.NewBuffer(Size(shape))), shape);
        }

        private (int, int[]) Pool()
        {
            var (x, s) = Input(0);
            if (s.Length != 3) throw Unsupported("pooling needs a (C, H, W) activation");
            long[] kernel = Ints("kernel_shape"), strides = Ints("strides", 1, 1), pads = Ints("pads", 0, 0, 0, 0);
            if (kernel.Length != 2 || strides[0] != strides[1] || pads.Distinct().Count() != 1) throw Unsupported("a pool with unequal strides or pads");
            bool max = node.OpType == "MaxPool";
            if (!max && (Attribute("count_include_pad")?.I ?? 0) != 0) throw Unsupported("an average pool that counts padding");
            var pool = new PoolGeometry(s[0], s[1], s[2], (int)kernel[0], (int)kernel[1], (int)strides[0], (int)pads[0]);
            int[] shape = [s[0], pool.OutH, pool.OutW];
            return Emit(new PoolStep(max, pool, x, graph.NewBuffer(Size(shape))), shape);
        }
    }

    // ---------------------------------------------------------------- steps

    private abstract class UnaryStep(int input, int output) : Step
    {
        public int Input { get; } = input;
        public int Output { get; } = output;
    }

    private sealed class Unary(string op, int input, int output, int size, float alpha, float gamma) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            ReadOnlySpan<float> x = c.Buffers[Input].AsSpan(0, c.Batch * size);
            Span<float> y = c.Buffers[Output].AsSpan(0, c.Batch * size);
            switch (op)
            {
                case "Relu": TensorPrimitives.Max(x, 0f, y); break;
                case "Sigmoid": TensorPrimitives.Sigmoid(x, y); break;
                case "Tanh": TensorPrimitives.Tanh(x, y); break;
                case "LeakyRelu": for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i]; break;
                case "Elu": for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : alpha * (MathF.Exp(x[i]) - 1); break;
                case "Selu": for (int i = 0; i < x.Length; i++) y[i] = gamma * (x[i] > 0 ? x[i] : alpha * (MathF.Exp(x[i]) - 1)); break;
            }
        }
    }

    private sealed class BinaryConstant(string op, int input, int output, float[] constant, bool constantFirst) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            int n = constant.Length;
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> x = c.Buffers[Input].AsSpan(r * n, n);
                Span<float> y = c.Buffers[Output].AsSpan(r * n, n);
                switch (op)
                {
                    case "Add": TensorPrimitives.Add(x, constant, y); break;
                    case "Mul": TensorPrimitives.Multiply(x, constant, y); break;
                    case "Sub": if (constantFirst) TensorPrimitives.Subtract(constant, x, y); else TensorPrimitives.Subtract(x, constant, y); break;
                    case "Div": if (constantFirst) TensorPrimitives.Divide(constant, x, y); else TensorPrimitives.Divide(x, constant, y); break;
                    case "PRelu": for (int i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : constant[i] * x[i]; break;
                }
            }
        }
    }

    private sealed class BinaryActivations(string op, int a, int b, int output, int size) : UnaryStep(a, output)
    {
        public override void Run(in Context c)
        {
            ReadOnlySpan<float> x = c.Buffers[Input].AsSpan(0, c.Batch * size), z = c.Buffers[b].AsSpan(0, c.Batch * size);
            Span<float> y = c.Buffers[Output].AsSpan(0, c.Batch * size);
            switch (op)
            {
                case "Add": TensorPrimitives.Add(x, z, y); break;
                case "Mul": TensorPrimitives.Multiply(x, z, y); break;
                case "Sub": TensorPrimitives.Subtract(x, z, y); break;
                case "Div": TensorPrimitives.Divide(x, z, y); break;
            }
        }
    }

    private sealed class Affine(int input, int output, float[] scale, float[] shift) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            int n = scale.Length;
            for (int r = 0; r < c.Batch; r++)
                TensorPrimitives.FusedMultiplyAdd(c.Buffers[Input].AsSpan(r * n, n), scale, shift, c.Buffers[Output].AsSpan(r * n, n));
        }
    }

    private sealed class Softmax(int input, int output, int n) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            for (int r = 0; r < c.Batch; r++)
                TensorPrimitives.SoftMax(c.Buffers[Input].AsSpan(r * n, n), c.Buffers[Output].AsSpan(r * n, n));
        }
    }

    private sealed class ToChannelsLast(int input, int output, int channels, int plane) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            int n = channels * plane;
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> x = c.Buffers[Input].AsSpan(r * n, n);
                Span<float> y = c.Buffers[Output].AsSpan(r * n, n);
                for (int ch = 0; ch < channels; ch++)
                    for (int p = 0; p < plane; p++) y[p * channels + ch] = x[ch * plane + p];
            }
        }
    }

    private sealed class GlobalPool(int input, int output, int channels, int plane) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            for (int r = 0; r < c.Batch; r++)
                for (int ch = 0; ch < channels; ch++)
                    c.Buffers[Output][r * channels + ch] = TensorPrimitives.Sum(c.Buffers[Input].AsSpan((r * channels + ch) * plane, plane)) / plane;
        }
    }

    private sealed class DenseStep(LowPrecisionLinear linear, int input, int output) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            LowPrecisionPath path = linear.Precision == Precision.Int8 ? c.Int8 : c.Bf16;
            linear.Forward(path, c.Buffers[Input], linear.K, c.Batch, c.Buffers[Output], transposed: false, c.Workspace, c.Calibrating);
        }
    }

    internal readonly record struct ConvGeometry(int C, int H, int W, int KH, int KW, int Stride, int Pad, int Dilation)
    {
        public int OutH => (H + 2 * Pad - Dilation * (KH - 1) - 1) / Stride + 1;
        public int OutW => (W + 2 * Pad - Dilation * (KW - 1) - 1) / Stride + 1;
    }

    private sealed class ConvStep(LowPrecisionLinear linear, ConvGeometry g, int input, int output) : UnaryStep(input, output)
    {
        public override void Run(in Context c)
        {
            LowPrecisionPath path = linear.Precision == Precision.Int8 ? c.Int8 : c.Bf16;
            int m = g.OutH * g.OutW, k = linear.K, inSize = g.C * g.H * g.W, outSize = linear.O * m;
            for (int r = 0; r < c.Batch; r++)
            {
                Span<float> columns = c.Workspace.Columns(m * k);
                Im2Col(c.Buffers[Input].AsSpan(r * inSize, inSize), g, columns);
                linear.Forward(path, columns, k, m, c.Buffers[Output].AsSpan(r * outSize, outSize), transposed: true, c.Workspace, c.Calibrating);
            }
        }

        /// <summary>Row (oy, ox) of the columns holds the receptive field in (c, i, j) order; padding reads 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
        private static void Im2Col(ReadOnlySpan<float> x, ConvGeometry g, Span<float> columns)
        {
            int k = g.C * g.KH * g.KW, row = 0;
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++, row++)
                {
                    Span<float> dst = columns.Slice(row * k, k);
                    int t = 0;
                    for (int ch = 0; ch < g.C; ch++)
                        for (int i = 0; i < g.KH; i++)
                        {
                            int iy = oy * g.Stride - g.Pad + i * g.Dilation;
                            for (int j = 0; j < g.KW; j++, t++)
                            {
                                int ix = ox * g.Stride - g.Pad + j * g.Dilation;
                                dst[t] = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W ? x[(ch * g.H + iy) * g.W + ix] : 0f;
                            }
                        }
                }
        }
    }

    internal readonly record struct PoolGeometry(int C, int H, int W, int KH, int KW, int Stride, int Pad)
    {
        public int OutH => (H + 2 * Pad - KH) / Stride + 1;
        public int OutW => (W + 2 * Pad - KW) / Stride + 1;
    }

    private sealed class PoolStep(bool max, PoolGeometry g, int input, int output) : UnaryStep(input, output)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
        public override void Run(in Context c)
        {
            int inSize = g.C * g.H * g.W, outSize = g.C * g.OutH * g.OutW;
            for (int r = 0; r < c.Batch; r++)
            {
                ReadOnlySpan<float> x = c.Buffers[Input].AsSpan(r * inSize, inSize);
                Span<float> y = c.Buffers[Output].AsSpan(r * outSize, outSize);
                int o = 0;
                for (int ch = 0; ch < g.C; ch++)
                    for (int oy = 0; oy < g.OutH; oy++)
                        for (int ox = 0; ox < g.OutW; ox++, o++)
                        {
                            float acc = max ? float.NegativeInfinity : 0;
                            int count = 0;
                            for (int i = 0; i < g.KH; i++)
                            {
                                int iy = oy * g.Stride - g.Pad + i;
                                if (iy < 0 || iy >= g.H) continue;
                                for (int j = 0; j < g.KW; j++)
                                {
                                    int ix = ox * g.Stride - g.Pad + j;
                                    if (ix < 0 || ix >= g.W) continue;
                                    float v = x[(ch * g.H + iy) * g.W + ix];
                                    acc = max ? MathF.Max(acc, v) : acc + v;
                                    count++;
                                }
                            }
                            y[o] = max ? acc : acc / Math.Max(count, 1);
                        }
            }
        }
    }
}
