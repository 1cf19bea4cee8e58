using System;
using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [FractionalMaxPool(ratio)] (Graham 2014): the maximum over pseudo-random regions drawn afresh each mini-batch, each
/// axis shrunk by a ratio in (1, 2); at test the mean of the maxima over TestDraws fixed region layouts.
/// </summary>
internal sealed class FractionalMaxPool : Pooling
{
    public override string Attribute => "FractionalMaxPool";
    public override LayerKind Kind => LayerKind.FractionalMaxPool;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "ratio", "TestDraws", "Name" };

    /// <summary>Output size of fractional max pooling along an axis: round(extent / ratio), at least 1.</summary>
    public static int Output(int extent, double ratio) => Math.Max(1, (int)Math.Round(extent / ratio, MidpointRounding.AwayFromZero));

    public override LayerSpec Parse(LayerReader r)
    {
        r.RequireSpatial();
        ActivationShape shape = r.Shape;
        double ratio = r.Double("ratio", 0);
        int draws = r.Int("TestDraws", 4);
        if (!(ratio > 1 && ratio < 2))
            r.OutOfDomain("ratio", 0, ratio, "fractional max pooling shrinks each axis by a ratio in (1, 2)");
        else if (shape.Spatial && r.InputShapeValid)
        {
            int outH = Output(shape.Height, ratio), outW = Output(shape.Width, ratio);
            if (!(outH < shape.Height && shape.Height <= 2 * outH) || !(outW < shape.Width && shape.Width <= 2 * outW))
                r.OutOfDomain("ratio", 0, ratio, $"on a {shape.Height}×{shape.Width} input it gives {outH}×{outW}; each axis must shrink, by at most 2 (use a larger input or another ratio)");
            shape.Height = outH;
            shape.Width = outW;
        }
        if (draws < 1 || draws > 64) r.OutOfDomain("TestDraws", -1, draws, "average between 1 and 64 region layouts at test");
        shape.Flat = shape.Channels * shape.Height * shape.Width;
        return new LayerSpec(LayerKind.FractionalMaxPool, r.LayerName, r.Index, Rate: ratio, Units: Math.Max(draws, 1));
    }

    public override (int Height, int Width) OutputSize(LayerSpec layer, int height, int width) => (Output(height, layer.Rate), Output(width, layer.Rate));

    protected override long FlopsPerOutput(LayerSpec layer, int inputPixels) => 4;

    protected override long WorkPerSample(PoolStep p) => (long)p.InFloats * 2;

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        base.EmitFields(e, step);
        var p = (PoolStep)step;
        int i = p.Index, draws = p.Layer.Units;
        e.W.Line($"private readonly int[] _regionRows{i} = new int[{p.OutHeight + 1}]; // {p.Layer.Name}: region starts of this mini-batch (rows)");
        e.W.Line($"private readonly int[] _regionCols{i} = new int[{p.OutWidthPx + 1}]; // {p.Layer.Name}: region starts of this mini-batch (columns)");
        e.W.Line($"private static readonly int[] s_testRows{i} = FractionalRegions({p.Height}, {p.OutHeight}, {draws}); // {draws} fixed layouts averaged at test");
        e.W.Line($"private static readonly int[] s_testCols{i} = FractionalRegions({p.Width}, {p.OutWidthPx}, {draws});");
    }

    public override void EmitViews(ModelEmitter e, StepPlan step)
    {
        var p = (PoolStep)step;
        e.W.Line($"/// <summary>{p.Layer.Name}'s row region starts of the last training step ({p.OutHeight} regions over {p.Height} rows, then {p.Height}).</summary>");
        e.W.Line($"public global::System.ReadOnlySpan<int> {SpecNaming.Pascal(p.Layer.Name)}RowStarts => _regionRows{p.Index};");
        e.W.Line($"/// <summary>{p.Layer.Name}'s column region starts of the last training step.</summary>");
        e.W.Line($"public global::System.ReadOnlySpan<int> {SpecNaming.Pascal(p.Layer.Name)}ColumnStarts => _regionCols{p.Index};");
    }

    internal override string ForwardSummary(PoolStep p) =>
        $"{p.Layer.Name}: maximum over this mini-batch's pseudo-random regions ({p.Height}×{p.Width} → {p.OutHeight}×{p.OutWidthPx}), argmax kept for backward; samples split across threads.";

    internal override string ForwardCall(PoolStep p, string input, string output) =>
        $"{K}FractionalMaxPool.Forward<TIsa>({input}, {output}, new global::System.Span<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), _regionRows{p.Index}, _regionCols{p.Index}, {p.InWidth}, {p.Height}, {p.Width}, {p.OutHeight}, {p.OutWidthPx}, s0, s1);";

    protected override void BeforeTrainingForward(PoolStep p, List<string> body)
    {
        body.Add($"{K}FractionalMaxPool.Regions({p.Height}, {p.OutHeight}, _noise.NextDouble(), _regionRows{p.Index}); // fresh pseudo-random regions for this mini-batch");
        body.Add($"{K}FractionalMaxPool.Regions({p.Width}, {p.OutWidthPx}, _noise.NextDouble(), _regionCols{p.Index});");
    }

    internal override string BackwardSummary(PoolStep p) =>
        $"{p.Layer.Name}: dL/dx gets each region's dL/dy at its argmax (zero elsewhere); samples split across threads.";

    internal override string BackwardCall(PoolStep p, string dy, string dx) =>
        $"{K}FractionalMaxPool.Backward<TIsa>({dy}, new global::System.ReadOnlySpan<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), {dx}, {p.InWidth}, {p.Height}, {p.Width}, {p.OutHeight}, {p.OutWidthPx}, s0, s1);";

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var p = (PoolStep)step;
        string name = SpecNaming.Pascal(p.Layer.Name) + "Inference";
        int draws = p.Layer.Units;
        e.OpenStage(name, $"{p.Layer.Name} (eval): the mean of the maxima over {draws} fixed region layouts; samples split across threads.");
        e.SampleRange();
        e.W.Line($"{K}FractionalMaxPool.ForwardAverage<TIsa>({All(p.InputBuffer, p.InFloats)}, {All(p.OutputBuffer, p.OutFloats)}, s_testRows{p.Index}, s_testCols{p.Index}, {draws},");
        e.W.Line($"    {p.InWidth}, {p.Height}, {p.Width}, {p.OutHeight}, {p.OutWidthPx}, s0, s1);");
        e.W.Close();
        e.W.Line();
        body.Add($"// {p.Layer.Name} (eval)");
        body.Add($"Execute(Stages.{name}, (long)_batch * {Work(p) * draws});");
    }
}
