using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Google.Protobuf;
using Kiln.Interop.Onnx;

namespace Kiln.Interop;

/// <summary>How the exported graph takes its input.</summary>
public enum OnnxInputLayout
{
    /// <summary><c>[batch, InputSize]</c>, the rows <see cref="IKilnModel.Predict"/> takes (NCHW order for images).</summary>
    Flat,
    /// <summary><c>[batch, C, H, W]</c> for a model with a spatial input (the same values, shaped).</summary>
    Nchw,
}

/// <summary>Options of <see cref="OnnxExport"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The lowest opset the exporter writes.</summary>
    public const int MinOpset = 13;
    /// <summary>The highest opset the exporter writes.</summary>
    public const int MaxOpset = 21;

    /// <summary>The ONNX operator set (default opset) version, <see cref="MinOpset"/> to <see cref="MaxOpset"/>; default 17.</summary>
    public int Opset { get; set; } = 17;
    /// <summary>Name of the graph input; default <c>input</c>.</summary>
    public string InputName { get; set; } = "input";
    /// <summary>Name of the graph output; default <c>output</c>.</summary>
    public string OutputName { get; set; } = "output";
    /// <summary>
    /// True (default): a BatchNorm right after a Dense or Conv2D is folded into its weights and bias, as
    /// <see cref="IKilnModel.Predict"/> does; other BatchNorms become <c>BatchNormalization</c> nodes. False: every
    /// BatchNorm is a <c>BatchNormalization</c> node with the running statistics.
    /// </summary>
    public bool FoldBatchNorm { get; set; } = true;
    /// <summary>The input's shape; <see cref="OnnxInputLayout.Nchw"/> needs a model with <c>InputShape</c>.</summary>
    public OnnxInputLayout InputLayout { get; set; } = OnnxInputLayout.Flat;
    /// <summary>The ONNX <c>model_version</c>; default 1.</summary>
    public long ModelVersion { get; set; } = 1;
    /// <summary>Extra <c>metadata_props</c> entries (Kiln's own keys, which start with <c>kiln_</c>, are reserved).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>A model that cannot be written as ONNX; <see cref="Layer"/> names the layer when one is at fault.</summary>
public sealed class OnnxExportException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    public OnnxExportException(string message, string? layer = null) : base(message) => Layer = layer;
    /// <summary>The layer that cannot be exported, or null when the model as a whole is at fault.</summary>
    public string? Layer { get; }
}

/// <summary>
/// Writes the inference graph of a generated model as an ONNX file: the model's own input normalisation, every layer
/// as <see cref="IKilnModel.Predict"/> runs it (running statistics, dropout removed or scaled as at test, residual
/// branches scaled by their survival probability) and the output as <c>Predict</c> returns it (probabilities for
/// softmax and sigmoid losses, raw scores otherwise), with a dynamic batch dimension. Weights are converted from Kiln's
/// layouts (see docs/interop.md): Dense stays [in, out] (a <c>Gemm</c>), Conv2D [kh, kw, c, o] becomes ONNX's
/// [o, c, kh, kw], and a <c>Flatten</c> after spatial layers flattens in Kiln's (H, W, C) order.
/// </summary>
public static class OnnxExport
{
    /// <summary>Writes the model to <paramref name="path"/> (through a temporary file, renamed over the target).</summary>
    /// <exception cref="OnnxExportException">The model has no architecture description or a layer cannot be expressed.</exception>
    public static void Save(IKilnModel model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = ToBytes(model, options);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes the model to a stream.</summary>
    public static void Write(IKilnModel model, Stream stream, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = ToBytes(model, options);
        stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>The serialised ONNX model.</summary>
    public static byte[] ToBytes(IKilnModel model, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        if (options.Opset is < OnnxExportOptions.MinOpset or > OnnxExportOptions.MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset,
                $"Opset {options.Opset} is not supported: Kiln writes opsets {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset}.");
        if (string.IsNullOrEmpty(options.InputName) || string.IsNullOrEmpty(options.OutputName) || options.InputName == options.OutputName)
            throw new ArgumentException("The input and output names must be non-empty and different.", nameof(options));
        ModelArchitecture architecture = model.Architecture
            ?? throw new OnnxExportException($"{model.ModelName} has no architecture description (IKilnModel.Architecture is null): rebuild it with a Kiln generator that emits one.");
        foreach (string key in options.Metadata.Keys)
            if (key.StartsWith("kiln_", StringComparison.Ordinal))
                throw new ArgumentException($"Metadata key '{key}' is reserved: Kiln writes the kiln_ keys itself.", nameof(options));
        return new GraphWriter(model, architecture, options).Build().ToByteArray();
    }

    /// <summary>What the exported output holds for a loss (as <see cref="IKilnModel.Predict"/> returns it).</summary>
    public static string OutputKind(LossKind loss) => loss switch
    {
        LossKind.SoftmaxCrossEntropy or LossKind.BinaryCrossEntropy => "probabilities",
        LossKind.MulticlassHinge => "scores",
        _ => "raw",
    };

    /// <summary>Builds the graph layer by layer, tracking the activation's shape (NCHW when spatial, [N, width] when flat).</summary>
    private sealed class GraphWriter
    {
        private readonly IKilnModel _model;
        private readonly ModelArchitecture _arch;
        private readonly OnnxExportOptions _options;
        private readonly GraphProto _graph = new();
        private readonly Dictionary<string, TensorInfo> _tensors;
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private int _counter;

        // The current activation: its value name and per-sample shape.
        private string _x = "";
        private bool _spatial;
        private int _c, _h, _w; // channels and pixels when spatial; _c = width when flat

        public GraphWriter(IKilnModel model, ModelArchitecture architecture, OnnxExportOptions options)
        {
            _model = model;
            _arch = architecture;
            _options = options;
            _tensors = model.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }

        private int Flat => _spatial ? _c * _h * _w : _c;

        public ModelProto Build()
        {
            _graph.Name = _arch.ModelName;
            _names.Add(_options.InputName);
            _names.Add(_options.OutputName);
            AddInput();
            IReadOnlyList<ArchitectureLayer> layers = _arch.Layers;
            var blocks = new Stack<(ArchitectureLayer Layer, string Input, bool Spatial, int C, int H, int W)>();
            for (int i = 0; i < layers.Count; i++)
            {
                ArchitectureLayer layer = layers[i];
                ArchitectureLayer? next = i + 1 < layers.Count ? layers[i + 1] : null;
                switch (layer.Kind)
                {
                    case ArchitectureLayerKind.Dense:
                        Dense(layer, FoldedNorm(next));
                        if (FoldedNorm(next) is not null) i++;
                        break;
                    case ArchitectureLayerKind.Conv2D:
                        Conv(layer, FoldedNorm(next));
                        if (FoldedNorm(next) is not null) i++;
                        break;
                    case ArchitectureLayerKind.BatchNorm: BatchNorm(layer); break;
                    case ArchitectureLayerKind.Activation: Activation(layer, isLast: i == layers.Count - 1); break;
                    case ArchitectureLayerKind.Dropout: Dropout(layer); break;
                    case ArchitectureLayerKind.AlphaDropout: break; // the identity at test
                    case ArchitectureLayerKind.ScalarBias: _x = Node("Add", [_x, Scalar(layer.Name + ".bias", Data(layer.Name + ".bias")[0])], layer.Name); break;
                    case ArchitectureLayerKind.Multiplier: _x = Node("Mul", [_x, Scalar(layer.Name + ".scale", Data(layer.Name + ".scale")[0])], layer.Name); break;
                    case ArchitectureLayerKind.Flatten: Flatten(first: i == 0); break;
                    case ArchitectureLayerKind.MaxPool:
                    case ArchitectureLayerKind.AvgPool: Pool(layer); break;
                    case ArchitectureLayerKind.GlobalAvgPool: GlobalAvgPool(layer); break;
                    case ArchitectureLayerKind.FractionalMaxPool: FractionalMaxPool(layer); break;
                    case ArchitectureLayerKind.LayerNorm:
                    case ArchitectureLayerKind.InstanceNorm:
                    case ArchitectureLayerKind.GroupNorm: SampleNorm(layer); break;
                    case ArchitectureLayerKind.Maxout: Maxout(layer); break;
                    case ArchitectureLayerKind.Residual: blocks.Push((layer, _x, _spatial, _c, _h, _w)); break;
                    case ArchitectureLayerKind.EndResidual:
                        if (blocks.Count == 0) throw new OnnxExportException($"{layer.Name} closes no residual block.", layer.Name);
                        var block = blocks.Pop();
                        ResidualEnd(block.Layer, block.Input, block.Spatial, block.C, block.H, block.W);
                        break;
                    default:
                        throw new OnnxExportException($"Layer {layer.Name} ({layer.Kind}) has no ONNX form in this exporter.", layer.Name);
                }
            }
            if (Flat != _model.OutputSize)
                throw new OnnxExportException($"{_arch.ModelName}: the rebuilt graph ends with {Flat} values per sample but the model outputs {_model.OutputSize}.");
            if (_spatial) _x = Node("Flatten", [_x], "output_flatten", Attr("axis", 1));
            string op = _arch.Loss switch
            {
                LossKind.SoftmaxCrossEntropy => "Softmax",
                LossKind.BinaryCrossEntropy => "Sigmoid",
                _ => "Identity",
            };
            var output = new NodeProto { OpType = op, Name = "output_" + op.ToLowerInvariant() };
            output.Input.Add(_x);
            output.Output.Add(_options.OutputName);
            if (op == "Softmax") output.Attribute.Add(Attr("axis", -1));
            _graph.Node.Add(output);
            _graph.Output.Add(ValueInfo(_options.OutputName, _model.OutputSize));

            var proto = new ModelProto
            {
                IrVersion = IrVersion(_options.Opset),
                ProducerName = "Kiln",
                ProducerVersion = KilnVersion(),
                ModelVersion = _options.ModelVersion,
                DocString = $"{_arch.ModelName} exported by Kiln: {OutputKind(_arch.Loss)} ({_arch.Loss}), input {_options.InputLayout}.",
                Graph = _graph,
            };
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _options.Opset });
            void Meta(string key, string value) => proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
            Meta("kiln_model", _arch.ModelName);
            Meta("kiln_version", KilnVersion());
            Meta("kiln_step", _model.Step.ToString(CultureInfo.InvariantCulture));
            Meta("kiln_loss", _arch.Loss.ToString());
            Meta("kiln_output", OutputKind(_arch.Loss));
            Meta("kiln_input_normalization", _arch.Normalization.ToString());
            Meta("kiln_batchnorm", _options.FoldBatchNorm ? "folded" : "BatchNormalization");
            foreach (var entry in _options.Metadata.OrderBy(e => e.Key, StringComparer.Ordinal)) Meta(entry.Key, entry.Value);
            return proto;
        }

        // ---------------------------------------------------------------- input

        private void AddInput()
        {
            IReadOnlyList<int> shape = _arch.InputShape;
            int c = 0, h = 0, w = 0;
            if (shape.Count > 0) (c, h, w) = shape.Count == 3 ? (shape[0], shape[1], shape[2]) : (1, shape[0], shape[1]);
            bool nchw = _options.InputLayout == OnnxInputLayout.Nchw;
            if (nchw && shape.Count == 0)
                throw new OnnxExportException($"{_arch.ModelName} has a flat input ({_arch.InputSize} features): OnnxInputLayout.Nchw needs a model declared with InputShape.");
            _graph.Input.Add(nchw ? ValueInfo(_options.InputName, c, h, w) : ValueInfo(_options.InputName, _arch.InputSize));
            _x = _options.InputName;
            _spatial = nchw;
            (_c, _h, _w) = nchw ? (c, h, w) : (_arch.InputSize, 0, 0);
            bool normalizes = _arch.Normalization is InputNormalization.PerFeature or InputNormalization.PerChannel;
            bool startsSpatial = shape.Count > 0 && (_arch.Layers.Count == 0 || _arch.Layers[0].Kind != ArchitectureLayerKind.Flatten);
            // Shape the rows as NCHW when the first layer is spatial, or when per-channel statistics need the channel axis.
            if (!_spatial && shape.Count > 0 && (startsSpatial || _arch.Normalization == InputNormalization.PerChannel))
                Reshape(c, h, w);
            if (normalizes)
            {
                float[] mean = Data("input.mean"), std = Data("input.std");
                long[] dims = _arch.Normalization == InputNormalization.PerChannel ? [c, 1, 1] : _spatial ? [c, h, w] : [_arch.InputSize];
                string m = Initializer("input.mean", mean, dims), s = Initializer("input.std", std, dims);
                _x = Node("Div", [Node("Sub", [_x, m], name: "input_normalization_sub"), s], name: "input_normalization_div");
            }
            if (_spatial && !startsSpatial) FlattenAs(chw: true);
        }

        // ---------------------------------------------------------------- layers

        /// <summary>The BatchNorm that follows a Dense or Conv2D and is folded into it, or null.</summary>
        private ArchitectureLayer? FoldedNorm(ArchitectureLayer? next) =>
            _options.FoldBatchNorm && next is { Kind: ArchitectureLayerKind.BatchNorm } ? next : null;

        private void Dense(ArchitectureLayer layer, ArchitectureLayer? bn)
        {
            Require(!_spatial, layer, "a Dense on a spatial activation needs a Flatten before it");
            TensorInfo weight = Tensor(layer.Name + ".weight");
            int inputs = weight.Shape[0], outputs = weight.Shape[1];
            Require(inputs == _c, layer, $"its weight has {inputs} input rows but the activation has {_c} features");
            float[] w = Data(weight.Name);
            float[] b = layer.Bias ? Data(layer.Name + ".bias") : new float[outputs];
            if (bn is not null) FoldInto(bn, w, b, outputs);
            string wName = Initializer(layer.Name + ".weight", w, [inputs, outputs]);
            if (layer.Bias || bn is not null)
                _x = Node("Gemm", [_x, wName, Initializer(layer.Name + ".bias", b, [outputs])], name: layer.Name);
            else
                _x = Node("MatMul", [_x, wName], name: layer.Name);
            _c = outputs;
        }

        private void Conv(ArchitectureLayer layer, ArchitectureLayer? bn)
        {
            Require(_spatial, layer, "Conv2D needs a spatial (C, H, W) activation");
            TensorInfo weight = Tensor(layer.Name + ".weight");
            int kh = weight.Shape[0], kw = weight.Shape[1], cin = weight.Shape[2], cout = weight.Shape[3];
            Require(cin == _c, layer, $"its weight has {cin} input channels but the activation has {_c}");
            float[] w = Data(weight.Name);
            float[] b = layer.Bias ? Data(layer.Name + ".bias") : new float[cout];
            if (bn is not null) FoldInto(bn, w, b, cout);
            float[] oihw = Layouts.KilnConvToOihw(w, kh, kw, cin, cout);
            var inputs = new List<string> { _x, Initializer(layer.Name + ".weight", oihw, [cout, cin, kh, kw]) };
            if (layer.Bias || bn is not null) inputs.Add(Initializer(layer.Name + ".bias", b, [cout]));
            _x = Node("Conv", inputs.ToArray(), layer.Name,
                Attr("kernel_shape", kh, kw), Attr("strides", layer.Stride, layer.Stride),
                Attr("pads", layer.Padding, layer.Padding, layer.Padding, layer.Padding), Attr("dilations", layer.Dilation, layer.Dilation));
            _h = (_h + 2 * layer.Padding - layer.Dilation * (kh - 1) - 1) / layer.Stride + 1;
            _w = (_w + 2 * layer.Padding - layer.Dilation * (kw - 1) - 1) / layer.Stride + 1;
            _c = cout;
        }

        /// <summary>W·γ/sqrt(var + ε) per output column, b' = (b − mean)·γ/sqrt(var + ε) + β (weights are [.., out], output-minor).</summary>
        private void FoldInto(ArchitectureLayer bn, float[] w, float[] b, int outputs)
        {
            float[] gamma = Data(bn.Name + ".gamma"), beta = Data(bn.Name + ".beta");
            float[] mean = Data(bn.Name + ".running_mean"), variance = Data(bn.Name + ".running_var");
            Require(gamma.Length == outputs, bn, $"it has {gamma.Length} channels but the layer before it has {outputs} outputs");
            var scale = new double[outputs];
            for (int o = 0; o < outputs; o++)
            {
                scale[o] = gamma[o] / Math.Sqrt(variance[o] + (double)(float)bn.Epsilon);
                b[o] = (float)((b[o] - (double)mean[o]) * scale[o] + beta[o]);
            }
            for (int i = 0; i < w.Length; i++) w[i] = (float)(w[i] * scale[i % outputs]);
        }

        private void BatchNorm(ArchitectureLayer layer)
        {
            long[] dims = [_c];
            string[] inputs =
            [
                _x,
                Initializer(layer.Name + ".gamma", Data(layer.Name + ".gamma"), dims),
                Initializer(layer.Name + ".beta", Data(layer.Name + ".beta"), dims),
                Initializer(layer.Name + ".running_mean", Data(layer.Name + ".running_mean"), dims),
                Initializer(layer.Name + ".running_var", Data(layer.Name + ".running_var"), dims),
            ];
            _x = Node("BatchNormalization", inputs, layer.Name, Attr("epsilon", (float)layer.Epsilon));
        }

        private void Activation(ArchitectureLayer layer, bool isLast)
        {
            string x = _x;
            switch (layer.Activation)
            {
                case ActivationFunction.Identity: break;
                case ActivationFunction.Sigmoid: _x = Node("Sigmoid", [x], layer.Name); break;
                case ActivationFunction.Tanh: _x = Node("Tanh", [x], layer.Name); break;
                case ActivationFunction.ReLU: _x = Node("Relu", [x], layer.Name); break;
                case ActivationFunction.LeakyReLU: _x = Node("LeakyRelu", [x], layer.Name, Attr("alpha", (float)layer.Alpha)); break;
                case ActivationFunction.ELU: _x = Node("Elu", [x], layer.Name, Attr("alpha", (float)layer.Alpha)); break;
                case ActivationFunction.SELU:
                    _x = Node("Selu", [x], layer.Name, Attr("alpha", 1.6732632423543772f), Attr("gamma", 1.0507009873554805f));
                    break;
                case ActivationFunction.PReLU:
                {
                    float[] alpha = Data(layer.Name + ".alpha");
                    Require(alpha.Length == _c, layer, $"it has {alpha.Length} slopes for {_c} {(_spatial ? "channels" : "features")}");
                    long[] dims = _spatial ? [_c, 1, 1] : [_c];
                    _x = Node("PRelu", [x, Initializer(layer.Name + ".alpha", alpha, dims)], layer.Name);
                    break;
                }
                case ActivationFunction.Swish:
                {
                    string scaled = layer.Alpha == 1 ? x : Node("Mul", [x, Scalar(layer.Name + ".beta", (float)layer.Alpha)], layer.Name + "_beta");
                    _x = Node("Mul", [x, Node("Sigmoid", [scaled], layer.Name + "_sigmoid")], layer.Name);
                    break;
                }
                case ActivationFunction.GELU:
                {
                    // x·Φ(x) = 0.5·x·(1 + erf(x/√2)), exact (Gelu itself is opset 20).
                    string erf = Node("Erf", [Node("Mul", [x, Scalar(layer.Name + ".inv_sqrt2", (float)(1 / Math.Sqrt(2)))], layer.Name + "_scale")], layer.Name + "_erf");
                    string onePlus = Node("Add", [erf, Scalar(layer.Name + ".one", 1f)], layer.Name + "_add");
                    _x = Node("Mul", [Node("Mul", [x, Scalar(layer.Name + ".half", 0.5f)], layer.Name + "_half"), onePlus], layer.Name);
                    break;
                }
                case ActivationFunction.Softmax:
                    Require(!_spatial && isLast, layer, "ONNX export supports Softmax only as the last layer on a flat activation");
                    _x = Node("Softmax", [x], layer.Name, Attr("axis", -1));
                    break;
                default:
                    throw new OnnxExportException($"Layer {layer.Name}: activation {layer.Activation} has no ONNX form in this exporter.", layer.Name);
            }
        }

        private void Dropout(ArchitectureLayer layer)
        {
            // Inverted and unscaled dropout are the identity at test; "vanilla" (TestTime) dropout multiplies by the keep probability.
            if (layer.Scaling == DropoutScaling.TestTime)
                _x = Node("Mul", [_x, Scalar(layer.Name + ".keep", (float)(1 - layer.Rate))], layer.Name);
        }

        private void Flatten(bool first)
        {
            if (!_spatial) return;
            FlattenAs(chw: first);
        }

        /// <summary>Kiln's activations are channels-last inside, so a Flatten after spatial layers reads (H, W, C); the very first Flatten reads the input as given (C, H, W).</summary>
        private void FlattenAs(bool chw)
        {
            string x = chw ? _x : Node("Transpose", [_x], "flatten_to_hwc", Attr("perm", 0, 2, 3, 1));
            _x = Node("Flatten", [x], "flatten", Attr("axis", 1));
            _c = _c * _h * _w;
            _spatial = false;
        }

        private void Pool(ArchitectureLayer layer)
        {
            Require(_spatial, layer, "pooling needs a spatial (C, H, W) activation");
            int kh = layer.KernelHeight, kw = layer.KernelWidth == 0 ? kh : layer.KernelWidth;
            var attributes = new List<AttributeProto>
            {
                Attr("kernel_shape", kh, kw), Attr("strides", layer.Stride, layer.Stride),
                Attr("pads", layer.Padding, layer.Padding, layer.Padding, layer.Padding),
            };
            bool max = layer.Kind == ArchitectureLayerKind.MaxPool;
            if (!max) attributes.Add(Attr("count_include_pad", 0)); // Kiln averages over the in-bounds cells only
            _x = Node(max ? "MaxPool" : "AveragePool", [_x], layer.Name, attributes.ToArray());
            _h = (_h + 2 * layer.Padding - kh) / layer.Stride + 1;
            _w = (_w + 2 * layer.Padding - kw) / layer.Stride + 1;
        }

        private void GlobalAvgPool(ArchitectureLayer layer)
        {
            Require(_spatial, layer, "GlobalAvgPool needs a spatial (C, H, W) activation");
            _x = Node("Flatten", [Node("GlobalAveragePool", [_x], layer.Name)], layer.Name + "_flatten", Attr("axis", 1));
            _spatial = false;
        }

        /// <summary>
        /// Test-time fractional max pooling: the mean over the draws' fixed layouts (u = (d + 0.5)/draws) of the region
        /// maxima. Each region is a few consecutive rows (columns); its max is the max of Gathers at start + k (clamped
        /// to the region's last index), first along H, then along W.
        /// </summary>
        private void FractionalMaxPool(ArchitectureLayer layer)
        {
            Require(_spatial, layer, "FractionalMaxPool needs a spatial (C, H, W) activation");
            int draws = Math.Max(layer.Units, 1);
            int outH = (int)Math.Round(_h / layer.Rate), outW = (int)Math.Round(_w / layer.Rate);
            Require(outH >= 1 && outW >= 1 && _h <= 2 * outH && _w <= 2 * outW && _h >= outH && _w >= outW, layer,
                $"its ratio {layer.Rate} does not map {_h}×{_w} to a valid output");
            string? sum = null;
            for (int d = 0; d < draws; d++)
            {
                double u = (d + 0.5) / draws;
                string rows = RegionMax(layer, _x, _h, outH, u, axis: 2, $"{layer.Name}_draw{d}_rows");
                string both = RegionMax(layer, rows, _w, outW, u, axis: 3, $"{layer.Name}_draw{d}_cols");
                sum = sum is null ? both : Node("Add", [sum, both], $"{layer.Name}_sum{d}");
            }
            _x = draws == 1 ? sum! : Node("Div", [sum!, Scalar(layer.Name + ".draws", draws)], layer.Name);
            _h = outH;
            _w = outW;
        }

        private string RegionMax(ArchitectureLayer layer, string x, int inSize, int outSize, double u, int axis, string name)
        {
            var starts = new int[outSize + 1];
            Kiln.Kernels.FractionalMaxPool.Regions(inSize, outSize, u, starts);
            int widest = 0;
            for (int i = 0; i < outSize; i++) widest = Math.Max(widest, starts[i + 1] - starts[i]);
            string? max = null;
            for (int k = 0; k < widest; k++)
            {
                var index = new long[outSize];
                for (int i = 0; i < outSize; i++) index[i] = Math.Min(starts[i] + k, starts[i + 1] - 1);
                string gathered = Node("Gather", [x, Int64Initializer($"{name}.index{k}", index, [outSize])], $"{name}_gather{k}", Attr("axis", axis));
                max = max is null ? gathered : Node("Max", [max, gathered], $"{name}_max{k}");
            }
            return max ?? throw new OnnxExportException($"Layer {layer.Name}: empty pooling regions.", layer.Name);
        }

        /// <summary>LayerNorm (1 group), InstanceNorm (C groups), GroupNorm: statistics per sample and group (biased variance), γ/β per channel or feature.</summary>
        private void SampleNorm(ArchitectureLayer layer)
        {
            int groups = Math.Max(layer.Groups, 1);
            Require(_c % groups == 0, layer, $"{groups} groups do not divide {_c} channels");
            float[] gamma = Data(layer.Name + ".gamma"), beta = Data(layer.Name + ".beta");
            Require(gamma.Length == _c, layer, $"it has {gamma.Length} scales for {_c} {(_spatial ? "channels" : "features")}");
            string n = layer.Name;
            string grouped = Node("Reshape", [_x, Int64Initializer(n + ".group_shape", [0, groups, -1], [3])], n + "_group");
            string mean = ReduceMean(grouped, n + "_mean");
            string centred = Node("Sub", [grouped, mean], n + "_centre");
            string variance = ReduceMean(Node("Mul", [centred, centred], n + "_square"), n + "_variance");
            string std = Node("Sqrt", [Node("Add", [variance, Scalar(n + ".epsilon", (float)layer.Epsilon)], n + "_add_epsilon")], n + "_std");
            string normalized = Node("Div", [centred, std], n + "_normalize");
            long[] back = _spatial ? [0, _c, _h, _w] : [0, _c];
            string reshaped = Node("Reshape", [normalized, Int64Initializer(n + ".shape", back, [back.Length])], n + "_ungroup");
            long[] dims = _spatial ? [_c, 1, 1] : [_c];
            _x = Node("Add", [Node("Mul", [reshaped, Initializer(n + ".gamma", gamma, dims)], n + "_scale"), Initializer(n + ".beta", beta, dims)], n);
        }

        private string ReduceMean(string x, string name) => _options.Opset >= 18
            ? Node("ReduceMean", [x, Int64Initializer(name + ".axes", [2], [1])], name, Attr("keepdims", 1))
            : Node("ReduceMean", [x], name, Attr("axes", [2L]), Attr("keepdims", 1));

        /// <summary>y_u = max over unit u's pieces, which are adjacent outputs u·k … u·k + k − 1 of the layer before.</summary>
        private void Maxout(ArchitectureLayer layer)
        {
            int pieces = layer.Units;
            Require(pieces >= 1 && _c % pieces == 0, layer, $"{pieces} pieces do not divide {_c} outputs");
            int units = _c / pieces;
            long[] shape = _spatial ? [0, units, pieces, _h, _w] : [0, units, pieces];
            string grouped = Node("Reshape", [_x, Int64Initializer(layer.Name + ".shape", shape, [shape.Length])], layer.Name + "_pieces");
            _x = _options.Opset >= 18
                ? Node("ReduceMax", [grouped, Int64Initializer(layer.Name + ".axes", [2], [1])], layer.Name, Attr("keepdims", 0))
                : Node("ReduceMax", [grouped], layer.Name, Attr("axes", [2L]), Attr("keepdims", 0));
            _c = units;
        }

        /// <summary>y = shortcut + Survival·branch, the shortcut being the block's input or its projection P(x).</summary>
        private void ResidualEnd(ArchitectureLayer block, string input, bool spatial, int c, int h, int w)
        {
            Require(spatial == _spatial, block, "the branch changes between spatial and flat");
            string shortcut = input;
            if (block.Projection)
            {
                TensorInfo projection = Tensor(block.Name + ".projection");
                float[] p = Data(projection.Name);
                if (spatial)
                {
                    int stride = ProjectionStride(block, h, w);
                    float[] oihw = Layouts.KilnConvToOihw(p, 1, 1, c, _c);
                    shortcut = Node("Conv", [input, Initializer(block.Name + ".projection", oihw, [_c, c, 1, 1])], block.Name + "_projection",
                        Attr("kernel_shape", 1, 1), Attr("strides", stride, stride));
                }
                else shortcut = Node("MatMul", [input, Initializer(block.Name + ".projection", p, [c, _c])], block.Name + "_projection");
            }
            else Require(c == _c && h == _h && w == _w, block, "the branch changes the shape; the block needs Projection = true");
            string branch = block.Survival == 1 ? _x : Node("Mul", [_x, Scalar(block.Name + ".survival", (float)block.Survival)], block.Name + "_survival");
            _x = Node("Add", [shortcut, branch], block.Name);
        }

        /// <summary>The smallest stride s with ⌈H/s⌉ = H' and ⌈W/s⌉ = W' (docs/dsl.md, projection shortcut).</summary>
        private int ProjectionStride(ArchitectureLayer block, int h, int w)
        {
            for (int s = 1; s <= Math.Max(h, w); s++)
                if ((h + s - 1) / s == _h && (w + s - 1) / s == _w) return s;
            throw new OnnxExportException($"Layer {block.Name}: no stride maps its {h}×{w} input to the branch's {_h}×{_w} output.", block.Name);
        }

        // ---------------------------------------------------------------- graph helpers

        private void Reshape(int c, int h, int w)
        {
            _x = Node("Reshape", [_x, Int64Initializer("input_shape", [-1, c, h, w], [4])], "input_to_nchw");
            (_spatial, _c, _h, _w) = (true, c, h, w);
        }

        private void Require(bool condition, ArchitectureLayer layer, string what)
        {
            if (!condition) throw new OnnxExportException($"Layer {layer.Name} ({layer.Kind}) of {_arch.ModelName} cannot be exported: {what}.", layer.Name);
        }

        private TensorInfo Tensor(string name) => _tensors.TryGetValue(name, out TensorInfo? t)
            ? t
            : throw new OnnxExportException($"{_arch.ModelName} has no tensor '{name}', which its architecture needs.");

        private float[] Data(string name) => _model.TensorData(Tensor(name)).ToArray();

        private string Unique(string name)
        {
            string candidate = name;
            for (int k = 1; !_names.Add(candidate); k++) candidate = $"{name}_{k}";
            return candidate;
        }

        /// <summary>Adds a node; its output value takes the node's (unique) name.</summary>
        private string Node(string op, string[] inputs, string? name = null, params AttributeProto[] attributes)
        {
            string output = Unique(name ?? op.ToLowerInvariant() + (_counter++).ToString(CultureInfo.InvariantCulture));
            var node = new NodeProto { OpType = op, Name = output };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            _graph.Node.Add(node);
            return output;
        }

        private string Initializer(string name, float[] data, long[] dims)
        {
            var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
            tensor.Dims.AddRange(dims);
            var bytes = new byte[data.Length * sizeof(float)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; Kiln runs on little-endian machines.");
            tensor.RawData = ByteString.CopyFrom(bytes);
            _graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        private string Scalar(string name, float value) => Initializer(name, [value], []);

        private string Int64Initializer(string name, long[] data, long[] dims)
        {
            var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.AddRange(dims);
            tensor.Int64Data.AddRange(data);
            _graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        private static ValueInfoProto ValueInfo(string name, params int[] perSample)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
            foreach (int d in perSample) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }

        private static AttributeProto Attr(string name, float value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

        private static AttributeProto Attr(string name, long value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        private static AttributeProto Attr(string name, params long[] values)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            return attribute;
        }

        /// <summary>The IR version that goes with an opset (ONNX's versioning table).</summary>
        private static long IrVersion(int opset) => opset switch
        {
            <= 13 => 7,
            <= 18 => 8,
            <= 20 => 9,
            _ => 10,
        };

        private static string KilnVersion() =>
            typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0";
    }
}
