using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.LowPrecision;

/// <summary>The number format of the Dense and Conv2D weights of a <see cref="LowPrecisionPredictor"/>.</summary>
public enum Precision
{
    /// <summary>
    /// Weights rounded to bfloat16 (8-bit exponent, 8-bit significand: half the bytes of float32); activations,
    /// products and sums stay float32. Needs no calibration.
    /// </summary>
    BFloat16,
    /// <summary>
    /// Weights as signed 8-bit integers with one scale per output unit or channel; each Dense and Conv2D input
    /// quantised to signed 8 bits with one scale found by calibration; products summed exactly in int32.
    /// </summary>
    Int8,
}

/// <summary>A model that cannot run in low precision; <see cref="Layer"/> names the layer when one is at fault.</summary>
public sealed class LowPrecisionException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    public LowPrecisionException(string message, string? layer = null) : base(message) => Layer = layer;
    /// <summary>Creates the exception with its cause.</summary>
    public LowPrecisionException(string message, string? layer, Exception inner) : base(message, inner) => Layer = layer;
    /// <summary>The layer that cannot run, or null when the model as a whole is at fault.</summary>
    public string? Layer { get; }
}

/// <summary>
/// Eval-mode inference of a trained model with its Dense and Conv2D weights in bfloat16 or int8 (see
/// docs/low-precision.md). It is built from the model's architecture description and a snapshot of its tensors, taken
/// when it is created: later training of the model does not change it. BatchNorm is folded into the weights before
/// they are rounded; the other layers run in float32. <see cref="Predict"/> takes and returns what
/// <see cref="IKilnModel.Predict"/> does. An instance keeps scratch buffers: use one per thread.
/// </summary>
public sealed class LowPrecisionPredictor
{
    private readonly LowPrecisionGraph _graph;

    private LowPrecisionPredictor(LowPrecisionGraph graph, Precision precision)
    {
        _graph = graph;
        Precision = precision;
        Bf16Path = Quantization.BestBf16(KilnIsa.Default);
        Int8Path = Quantization.BestInt8(KilnIsa.Default);
    }

    /// <summary>
    /// Builds a predictor. <see cref="Precision.Int8"/> needs calibration samples (rows of
    /// <see cref="IKilnModel.InputSize"/> values, as <see cref="IKilnModel.Predict"/> takes them): a few training batches,
    /// never test data; each quantised layer's input scale is the largest magnitude its input reaches on them.
    /// </summary>
    /// <exception cref="LowPrecisionException">A layer has no low-precision form; the message and <see cref="LowPrecisionException.Layer"/> name it.</exception>
    /// <exception cref="ArgumentException">Int8 without calibration samples, or a calibration length that is not whole rows.</exception>
    public static LowPrecisionPredictor Create(IKilnModel model, Precision precision, ReadOnlySpan<float> calibrationInputs = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!Enum.IsDefined(precision)) throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown precision.");
        var graph = new LowPrecisionGraph(model);
        if (precision == Precision.Int8)
        {
            if (calibrationInputs.IsEmpty)
                throw new ArgumentException($"Int8 needs calibration samples for {model.ModelName}: pass a few training batches (rows of {model.InputSize} values) as calibrationInputs.", nameof(calibrationInputs));
            if (calibrationInputs.Length % model.InputSize != 0)
                throw new ArgumentException($"calibrationInputs has {calibrationInputs.Length} values, not a whole number of {model.InputSize}-value rows.", nameof(calibrationInputs));
            int count = calibrationInputs.Length / model.InputSize, chunk = 64;
            var scratch = new float[chunk * model.OutputSize];
            for (int start = 0; start < count; start += chunk)
            {
                int n = Math.Min(chunk, count - start);
                graph.Run(calibrationInputs.Slice(start * model.InputSize, n * model.InputSize), scratch, n, LowPrecisionPath.Portable, LowPrecisionPath.Portable, calibrating: true);
            }
            foreach (LowPrecisionLinear linear in graph.Linears)
                if (!(linear.CalibratedMax > 0))
                    throw new ArgumentException($"Layer {linear.Layer} of {model.ModelName} saw only zeros (or non-finite values) on the calibration samples: its int8 input scale cannot be set.", nameof(calibrationInputs));
        }
        foreach (LowPrecisionLinear linear in graph.Linears) linear.Finish(precision);
        return new LowPrecisionPredictor(graph, precision);
    }

    /// <summary>The weights' number format.</summary>
    public Precision Precision { get; }
    /// <summary>The model class name.</summary>
    public string ModelName => _graph.ModelName;
    /// <summary>Features per sample.</summary>
    public int InputSize => _graph.InputSize;
    /// <summary>Outputs per sample.</summary>
    public int OutputSize => _graph.OutputSize;
    /// <summary>The quantised layers (Dense and Conv2D names, in order).</summary>
    public IReadOnlyList<string> QuantizedLayers => _graph.Linears.Select(l => l.Layer).ToArray();
    /// <summary>Bytes of the quantised weights (padding included), for comparing with 4 bytes per float32 weight.</summary>
    public long WeightBytes => _graph.Linears.Sum(l => Precision == Precision.Int8
        ? (long)l.PaddedDepth * l.PaddedOutputs + 8L * l.O
        : 2L * l.K * l.PaddedOutputs);

    internal LowPrecisionPath Bf16Path { get; set; }
    internal LowPrecisionPath Int8Path { get; set; }
    internal LowPrecisionGraph Graph => _graph;

    /// <summary>
    /// Eval-mode forward of <paramref name="batch"/> samples: probabilities for softmax and sigmoid losses, raw outputs
    /// otherwise, as <see cref="IKilnModel.Predict"/>. Any batch size is accepted.
    /// </summary>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (inputs.Length < batch * InputSize)
            throw new ArgumentException($"inputs has {inputs.Length} values; {batch} samples of {ModelName} need {batch * InputSize}.", nameof(inputs));
        if (outputs.Length < batch * OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} values; {batch} samples of {ModelName} need {batch * OutputSize}.", nameof(outputs));
        if (batch == 0) return;
        _graph.Run(inputs, outputs, batch, Bf16Path, Int8Path, calibrating: false);
    }
}

/// <summary>Low-precision conversions of a trained model.</summary>
public static class LowPrecisionExtensions
{
    /// <summary>
    /// A <see cref="LowPrecisionPredictor"/> of the model's current weights (see <see cref="LowPrecisionPredictor.Create"/>):
    /// <c>model.ToLowPrecision(Precision.BFloat16)</c>, or with calibration rows for <see cref="Precision.Int8"/>.
    /// </summary>
    public static LowPrecisionPredictor ToLowPrecision(this IKilnModel model, Precision precision, ReadOnlySpan<float> calibrationInputs = default) =>
        LowPrecisionPredictor.Create(model, precision, calibrationInputs);
}
