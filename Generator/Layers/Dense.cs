using System;
using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>
/// [Dense(units)]: y = x·W + b, W [in, units·pieces] (pieces from a Maxout right after it). Its stages are the GEMM
/// stages of <see cref="LinearLayer"/>; inference fuses the bias, a folded BatchNorm and the activation into the
/// GEMM's epilogue (Planning/InferenceFusion.cs).
/// </summary>
internal sealed class Dense : LinearLayer
{
    public override string Attribute => "Dense";
    public override LayerKind Kind => LayerKind.Dense;
    public override string NamePrefix => "dense";
    public override IReadOnlyList<string> Arguments { get; } =
        new[] { "units", "Bias", "Init", "InitScale", "BiasInit", "Name", "LearningRateScale", "Regularize", "DropConnect" };

    public override LayerSpec Parse(LayerReader r)
    {
        ActivationShape shape = r.Shape;
        int units = r.Int("units", 0);
        if (units <= 0) r.OutOfDomain("units", 0, units, "a Dense layer needs at least one unit");
        if (shape.Spatial)
            r.Report(Descriptors.SpatialInputWithoutFlatten, r.LayerName, $"spatial [{shape.Channels}×{shape.Height}×{shape.Width}]");
        if (units > ModelLimits.MaxUnits || (long)shape.Flat * Math.Max(units, 0) > ModelLimits.MaxTensorLength || (long)r.MaxBatch * Math.Max(units, 0) > ModelLimits.MaxTensorLength)
            r.OutOfDomain("units", 0, units, $"the layer would need {(long)shape.Flat * units:N0} weights and {(long)r.MaxBatch * units:N0} activations; Kiln keeps each under {ModelLimits.MaxTensorLength:N0}");
        (InitKind init, double scale, double biasInit) = ParseInit(r);
        var layer = new LayerSpec(LayerKind.Dense, r.LayerName, r.Index, Units: units, Bias: r.Bool("Bias", true),
            Init: init, InitScale: scale, BiasInit: biasInit, LearningRateScale: r.LearningRateScale(),
            Regularize: r.Bool("Regularize", true), DropConnect: ParseDropConnect(r));
        if (units > 0) shape.Flat = units;
        shape.Spatial = false;
        return layer;
    }

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) =>
        lastLinear = (long)before.Flat * Math.Max(layer.Units, 0) + Math.Max(layer.Units, 0) + 2 * PlanBuilder.Alignment;

    public override void Plan(PlanBuilder b)
    {
        LayerSpec layer = b.Current;
        int outputs = layer.Units * b.MaxoutPieces();
        TensorPlan w = b.AddParam(layer.Name, "weight", "Weight", b.Width, outputs);
        TensorPlan? bias = layer.Bias ? b.AddParam(layer.Name, "bias", "Bias", outputs) : null;
        var dense = new DenseStep(layer, w, bias) { InWidth = b.Width, OutWidth = outputs, OutputShape = new[] { outputs } };
        Finish(b, dense);
        b.Add(dense, this);
        b.Width = outputs;
        b.Position++;
    }
}
