using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Emitting;

// The forward, loss, backward and inference passes. Each parallel stage is a generic method over
// the ISA path; the sequential orchestration lives in ForwardTraining / Backward / ForwardInference.
internal sealed partial class ModelEmitter
{
    private int AddStage(string name, string comment)
    {
        _stages.Add((name, comment));
        return _stages.Count - 1;
    }

    private static string ActivationStruct(ChainStep chain) => chain.ActivationIsElementwise ? ActivationStruct(chain.ActivationKind, chain.Activation?.Alpha ?? 0) : ActivationStruct(ActivationKind.Identity, 0);

    private static string ActivationType(ChainStep chain) => chain.ActivationIsElementwise ? ActivationType(chain.ActivationKind) : ActivationType(ActivationKind.Identity);

    private static string ActivationType(ActivationKind kind) => K + kind switch
    {
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        ActivationKind.ReLU => "Relu",
        ActivationKind.LeakyReLU => "LeakyRelu",
        ActivationKind.ELU => "Elu",
        ActivationKind.SELU => "Selu",
        ActivationKind.Swish => "Swish",
        ActivationKind.GELU => "Gelu",
        _ => "Identity",
    };

    private static string ActivationStruct(ActivationKind kind, double alpha) => kind switch
    {
        ActivationKind.LeakyReLU or ActivationKind.ELU or ActivationKind.Swish => $"new {ActivationType(kind)}({Float(alpha)})",
        _ => $"new {ActivationType(kind)}()",
    };

    private static string Rows(string buffer, int width) => $"{buffer}.Slice(r0 * {width}, (r1 - r0) * {width})";

    private static string All(string buffer, int width) => $"{buffer}.Slice(0, _batch * {width})";

    /// <summary>The two optimiser-state arguments of Apply for a tensor ("default" where the rule keeps none), each passed through <paramref name="slice"/>.</summary>
    private string States(TensorPlan t, System.Func<string, string>? slice = null)
    {
        string State(int s) => s <= _plan.OptimizerStateCount ? (slice ?? (x => x))($"{t.Identifier}State{s}") : "default";
        return $"{State(1)}, {State(2)}";
    }

    private void OpenStage(string name, string comment)
    {
        AddStage(name, comment);
        _w.Line($"/// <summary>{comment}</summary>");
        _w.Open($"private void {name}<TIsa>(int part, int parts) {IsaConstraint}");
    }

    private void RowRange(string total = "_batch", string align = "8")
    {
        _w.Line($"(int r0, int r1) = {K}Partition.Range({total}, part, parts, {align});");
        _w.Line("if (r0 >= r1) return;");
    }

    // ------------------------------------------------------------------ training forward

    private void EmitTrainingForward()
    {
        var body = new List<string>();
        foreach (StepPlan step in _plan.Steps)
        {
            if (step is DenseStep d)
                EmitDenseForward(d, body);
            else if (step is ResidualStartStep start)
                body.Add($"// {start.Layer.Name} starts: its input {start.InputBuffer} is the shortcut");
            else if (step is ResidualEndStep end)
            {
                string name = SpecNaming.Pascal(end.Layer.Name) + "Forward";
                if (end.Projection is not null)
                {
                    body.Add($"// {end.Layer.Name}: projection shortcut P(x) of the block input {end.Start.InputBuffer}");
                    EmitDenseForward(end.Projection, body);
                }
                body.Add($"// {end.Layer.Name}: y = {(end.Projection is null ? "shortcut" : "P(x)")} + gate·branch");
                if (end.Survival < 1)
                    body.Add($"_gate{end.Index} = _noise.NextDouble() < {Double(end.Survival)} ? 1f : 0f; // stochastic depth: keep the branch with p = {end.Survival.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, once per mini-batch");
                EmitResidualAddStage(end, name, $"_gate{end.Index}", "training: the gate of this mini-batch");
                body.Add($"Execute(Stages.{name}, (long)_batch * {end.OutFloats * 2L});");
            }
            else if (step is MaxoutStep maxout)
            {
                string name = SpecNaming.Pascal(maxout.Layer.Name) + "Forward";
                OpenStage(name, $"{maxout.Layer.Name}: the maximum of each unit's {maxout.Pieces} pieces, the winner kept for backward; samples split across threads.");
                RowRange();
                _w.Line($"{K}Maxout.Forward<TIsa>({Rows(maxout.InputBuffer, maxout.InFloats)}, {Rows(maxout.OutputBuffer, maxout.OutFloats)}, new global::System.Span<byte>({maxout.ArgmaxBuffer}, r0 * {maxout.OutFloats}, (r1 - r0) * {maxout.OutFloats}), {SampleRows(maxout.OutPixels)}, {maxout.OutWidth}, {maxout.Pieces});");
                _w.Close();
                _w.Line();
                body.Add($"// {maxout.Layer.Name}");
                body.Add($"Execute(Stages.{name}, (long)_batch * {(long)maxout.InFloats * 2});");
            }
            else if (step is NormStep norm)
            {
                EmitNormForwardStage(norm);
                body.Add($"// {norm.Layer.Name}");
                body.Add($"Execute(Stages.{SpecNaming.Pascal(norm.Layer.Name)}Forward, (long)_batch * {8L * norm.OutFloats});");
            }
            else if (step is PoolStep p)
            {
                EmitPoolForwardStage(p);
                body.Add($"// {p.Layer.Name}");
                if (p.Layer.Kind == LayerKind.FractionalMaxPool)
                {
                    body.Add($"{K}FractionalMaxPool.Regions({p.Height}, {p.OutHeight}, _noise.NextDouble(), _regionRows{p.Index}); // fresh pseudo-random regions for this mini-batch");
                    body.Add($"{K}FractionalMaxPool.Regions({p.Width}, {p.OutWidthPx}, _noise.NextDouble(), _regionCols{p.Index});");
                }
                body.Add($"Execute(Stages.{SpecNaming.Pascal(p.Layer.Name)}Forward, (long)_batch * {PoolWork(p)});");
            }
            else if (step is ChainStep c)
            {
                int width = c.OutWidth;
                int floats = c.OutFloats;
                string mask = c.HasDropout ? All($"_mask{c.Index}", floats) : "default";
                string maskRows = c.HasDropout ? Rows($"_mask{c.Index}", floats) : "default";
                body.Add($"// {c.Describe()}{(c.IsSpatial ? $" (per channel over samples·{c.OutPixels} pixels)" : "")}");
                if (c.HasDropout)
                {
                    double keep = 1 - c.Dropout!.Rate;
                    double scale = c.Dropout.Scaling == DropoutScalingKind.Inverted ? 1 / keep : 1;
                    body.Add($"{K}Dropout.FillMask({All($"_mask{c.Index}", floats)}, {Float(keep)}, {Float(scale)}, ref _noise);");
                }
                if (c.BatchNorm is not null && c.IsSpatial) EmitSplitBatchNormForward(c, mask, body);
                else if (c.BatchNorm is not null)
                {
                    LayerSpec bn = c.BatchNorm;
                    string target = c.PreActivationBuffer ?? c.OutputBuffer;
                    string bnMask = c.ActivationIsElementwise ? mask : "default";
                    string name = SpecNaming.Pascal(bn.Name) + "Forward";
                    OpenStage(name, $"{c.Describe()}: batch statistics and {(c.ActivationIsElementwise ? "the fused activation/dropout" : "normalisation")}, columns split across threads.");
                    _w.Line($"(int c0, int c1) = {K}Partition.Range({width}, part, parts, 16);");
                    _w.Line("if (c0 >= c1) return;");
                    _w.Line("// A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).");
                    _w.Line($"bool updateRunning = _updateRunningStatistics && _learningRateScales[{c.Gamma!.TrainableIndex}] != 0f;");
                    _w.Line($"{K}BatchNorm.ForwardTrain<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier},");
                    _w.Line($"    _mean{c.Index}.Span, _invStd{c.Index}.Span, {bnMask}, {All(target, floats)}, {BatchRows(c.OutPixels)}, {width}, c0, c1, {Float(bn.Epsilon)}, {Float(bn.Momentum)}, updateRunning, {ActivationStruct(c)});");
                    _w.Close();
                    _w.Line();
                    body.Add($"Execute(Stages.{name}, (long)_batch * {floats * 12L});");
                }
                if (c.BatchNorm is null || !c.ActivationIsElementwise)
                {
                    string source = c.PreActivationBuffer ?? c.InputBuffer;
                    string name = SpecNaming.Pascal((c.Activation ?? c.Dropout)!.Name) + "Forward";
                    OpenStage(name, $"{c.Describe()}: element-wise, rows split across threads.");
                    RowRange();
                    if (c.ActivationKind == ActivationKind.PReLU)
                        _w.Line($"{K}PRelu.Forward<TIsa>({Rows(source, floats)}, {c.PReluAlpha!.Identifier}, {maskRows}, {Rows(c.OutputBuffer, floats)}, {SampleRows(c.OutPixels)}, {width});");
                    else if (c.ActivationKind == ActivationKind.Softmax)
                        _w.Line($"{K}Elementwise.SoftmaxForward({Rows(source, floats)}, {Rows(c.OutputBuffer, floats)}, r1 - r0, {floats});");
                    else
                        _w.Line($"{K}Elementwise.ActivationForward<TIsa, {ActivationType(c)}>({Rows(source, floats)}, {maskRows}, {Rows(c.OutputBuffer, floats)}, {ActivationStruct(c)});");
                    _w.Close();
                    _w.Line();
                    body.Add($"Execute(Stages.{name}, (long)_batch * {floats * 10L});");
                }
            }
        }
        _w.Line("/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>");
        _w.Open("private void ForwardTraining()");
        foreach (string line in body) _w.Line(line);
        _w.Close();
        _w.Line();
    }

    /// <summary>A Dense or Conv2D's training forward stage(s) (also a projection shortcut's, which inference reuses).</summary>
    private void EmitDenseForward(DenseStep d, List<string> body)
    {
        body.Add($"// {d.Layer.Name}{(d.Conv is null ? "" : $": {d.Conv.Describe()} convolution as im2col + GEMM")}");
        if (d.HasDropConnect)
        {
            double keep = 1 - d.Layer.DropConnect;
            string apply = SpecNaming.Pascal(d.Layer.Name) + "DropConnect";
            OpenStage(apply, $"{d.Layer.Name}: DropConnect, weights ∘ this mini-batch's mask; weight ranges split across threads.");
            _w.Line($"(int e0, int e1) = {K}Partition.Range({d.Weight.Length}, part, parts, 16);");
            _w.Line($"if (e0 < e1) {K}DropConnect.Apply<TIsa>({d.Weight.Identifier}, _connectMask{d.Index}.Slice(0, {d.Weight.Length}), _connectWeight{d.Index}.Slice(0, {d.Weight.Length}), e0, e1);");
            _w.Close();
            _w.Line();
            body.Add($"{K}Dropout.FillMask(_connectMask{d.Index}.Slice(0, {d.Weight.Length}), {Float(keep)}, {Float(1 / keep)}, ref _noise); // DropConnect: keep each weight with p = {keep.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
            body.Add($"Execute(Stages.{apply}, {d.Weight.Length * 2L});");
        }
        string name = SpecNaming.Pascal(d.Layer.Name) + "Forward";
        string epi = d.Bias is null ? $"{K}NoEpilogue" : $"{K}BiasEpilogue";
        string epiValue = d.Bias is null ? $"new {K}NoEpilogue()" : $"new {K}BiasEpilogue({d.Bias.Identifier})";
        if (d.Conv?.ColumnBuffer is not null)
        {
            // A projection's inference reuses this forward stage.
            OpenStage(name, $"{d.Layer.Name}: im2col and [rows = samples·{d.OutPixels} pixels×{d.GemmK}]·[{d.GemmK}×{d.OutWidth}]{(d.Bias is null ? "" : " + b")}, chunk by chunk; samples split across threads.");
            EmitConvForwardChunks(d, TrainingWeights(d), d.OutputBuffer, epi, epiValue);
            _w.Close();
            _w.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
            return;
        }
        string rowsText = d.Conv is null ? "rows" : $"rows = samples·{d.OutPixels} pixels";
        OpenStage(name, $"{d.Layer.Name}: [{rowsText}×{d.GemmK}]·[{d.GemmK}×{d.OutWidth}]{(d.Bias is null ? "" : " + b")}, rows split across threads.");
        RowRange(BatchRows(d.OutPixels));
        _w.Line($"{K}Gemm.Forward<TIsa, {epi}>({Rows(d.GemmInput, d.GemmK)}, {TrainingWeights(d)}, {Rows(d.OutputBuffer, d.OutWidth)}, r1 - r0, {d.GemmK}, {d.OutWidth}, {epiValue});");
        _w.Close();
        _w.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
    }

    /// <summary>The zero-bordered input copy that a convolution's small-batch inference reads, samples split across threads.</summary>
    private void EmitPadStage(DenseStep d)
    {
        ConvPlan conv = d.Conv!;
        OpenStage(SpecNaming.Pascal(d.Layer.Name) + "Pad", $"{d.Layer.Name}: copies each sample into a zero-bordered {conv.Height + 2 * conv.Padding}×{conv.Width + 2 * conv.Padding}×{conv.Channels} image in {conv.PaddedBuffer} (small-batch inference reads its patches there, no im2col); samples split across threads.");
        SampleRange();
        _w.Line($"{K}DirectConv.Pad({All(d.InputBuffer, d.InFloats)}, {All(conv.PaddedBuffer!, conv.PaddedSize)}, in {conv.GeometryField}, s0, s1);");
        _w.Close();
        _w.Line();
    }

    /// <summary>The weights the training forward and dL/dx use: the DropConnect-masked copy when the layer has DropConnect.</summary>
    private static string TrainingWeights(DenseStep d) => d.HasDropConnect ? $"_connectWeight{d.Index}.Slice(0, {d.Weight.Length})" : d.Weight.Identifier;

    /// <summary>Samples of one im2col chunk: about 64K floats of patches, so the GEMM reads them from cache right after they are written.</summary>
    private static int ConvChunk(DenseStep d) => System.Math.Max(1, (1 << 16) / (d.OutPixels * d.GemmK));

    /// <summary>Body of a convolution forward stage over samples [s0, s1): im2col then GEMM, one cache-sized chunk at a time.</summary>
    private void EmitConvForwardChunks(DenseStep d, string weights, string output, string epiType, string epiValue)
    {
        ConvPlan conv = d.Conv!;
        int patches = d.OutPixels * d.GemmK, outputs = d.OutFloats, chunk = ConvChunk(d);
        SampleRange();
        _w.Line($"// {chunk} sample(s) per chunk: the GEMM reads the patches while they are still in cache.");
        _w.Open($"for (int c0 = s0; c0 < s1; c0 += {chunk})");
        _w.Line($"int c1 = global::System.Math.Min(c0 + {chunk}, s1);");
        _w.Line($"{K}Im2Col.Forward<TIsa>({All(d.InputBuffer, d.InFloats)}, {All(conv.ColumnBuffer!, patches)}, in {conv.GeometryField}, channelsFirst: false, c0, c1);");
        _w.Line($"{K}Gemm.Forward<TIsa, {epiType}>({conv.ColumnBuffer}.Slice(c0 * {patches}, (c1 - c0) * {patches}), {weights}, {output}.Slice(c0 * {outputs}, (c1 - c0) * {outputs}), (c1 - c0) * {d.OutPixels}, {d.GemmK}, {d.OutWidth}, {epiValue});");
        _w.Close();
    }

    /// <summary>
    /// Large-batch inference of a shallow-kernel convolution over samples [s0, s1): per chunk, the zero-bordered copy,
    /// the register-tile convolution and the fused pool (if any), so that each step reads the last one's output from cache.
    /// </summary>
    private void EmitShallowConvChunks(DenseStep d, string image, string weights, string output, string epiType, string epiValue, PoolStep? pool)
    {
        ConvPlan conv = d.Conv!;
        int chunk = System.Math.Max(1, (1 << 16) / d.OutFloats);
        SampleRange();
        _w.Line($"// {chunk} sample(s) per chunk: {(conv.PaddedBuffer is null ? "" : "padded, ")}convolved{(pool is null ? "" : " and pooled")} while they are in cache.");
        _w.Open($"for (int c0 = s0; c0 < s1; c0 += {chunk})");
        _w.Line($"int c1 = global::System.Math.Min(c0 + {chunk}, s1);");
        if (conv.PaddedBuffer is not null)
            _w.Line($"{K}DirectConv.Pad({All(d.InputBuffer, d.InFloats)}, {All(conv.PaddedBuffer, conv.PaddedSize)}, in {conv.GeometryField}, c0, c1);");
        _w.Line($"{K}ShallowConv.Forward<TIsa, {epiType}>({All(image, conv.PaddedSize)}, {weights}, {All(output, d.OutFloats)}, in {conv.GeometryField}, {d.OutWidth}, c0 * {d.OutPixels}, c1 * {d.OutPixels}, {epiValue});");
        if (pool is not null) EmitPoolSamples(pool, All(output, d.OutFloats), "c0", "c1");
        _w.Close();
    }

    /// <summary>A fused pool over whole samples [from, to) of the convolution's output, no argmax (inference).</summary>
    private void EmitPoolSamples(PoolStep pool, string input, string from, string to) =>
        _w.Line(pool.Layer.Kind == LayerKind.MaxPool
            ? $"{K}Pooling.MaxForward<TIsa>({input}, {All(pool.OutputBuffer, pool.OutFloats)}, default, in {pool.GeometryField}, {from}, {to}); // {pool.Layer.Name} (no argmax at inference)"
            : $"{K}Pooling.AvgForward<TIsa>({input}, {All(pool.OutputBuffer, pool.OutFloats)}, in {pool.GeometryField}, {from}, {to}); // {pool.Layer.Name}");

    /// <summary>A pooling layer's forward stage (shared by training and inference; a max pool records its argmax for backward).</summary>
    private void EmitPoolForwardStage(PoolStep p)
    {
        string input = All(p.InputBuffer, p.InFloats), output = All(p.OutputBuffer, p.OutFloats);
        OpenStage(SpecNaming.Pascal(p.Layer.Name) + "Forward", p.Layer.Kind switch
        {
            LayerKind.MaxPool => $"{p.Layer.Name}: maximum of each {p.Layer.KernelH}×{p.Layer.KernelW} window (stride {p.Layer.Stride}) per channel, argmax kept for backward; samples split across threads.",
            LayerKind.AvgPool => $"{p.Layer.Name}: mean of each {p.Layer.KernelH}×{p.Layer.KernelW} window (stride {p.Layer.Stride}) per channel; samples split across threads.",
            LayerKind.FractionalMaxPool => $"{p.Layer.Name}: maximum over this mini-batch's pseudo-random regions ({p.Height}×{p.Width} → {p.OutHeight}×{p.OutWidthPx}), argmax kept for backward; samples split across threads.",
            _ => $"{p.Layer.Name}: mean of each channel over {p.InPixels} pixels; samples split across threads.",
        });
        SampleRange();
        _w.Line(p.Layer.Kind switch
        {
            LayerKind.MaxPool => $"{K}Pooling.MaxForward<TIsa>({input}, {output}, new global::System.Span<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), in {p.GeometryField}, s0, s1);",
            LayerKind.AvgPool => $"{K}Pooling.AvgForward<TIsa>({input}, {output}, in {p.GeometryField}, s0, s1);",
            LayerKind.FractionalMaxPool => $"{K}FractionalMaxPool.Forward<TIsa>({input}, {output}, new global::System.Span<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), _regionRows{p.Index}, _regionCols{p.Index}, {p.InWidth}, {p.Height}, {p.Width}, {p.OutHeight}, {p.OutWidthPx}, s0, s1);",
            _ => $"{K}Pooling.GlobalAvgForward<TIsa>({input}, {output}, {p.InWidth}, {p.InPixels}, s0, s1);",
        });
        _w.Close();
        _w.Line();
    }

    /// <summary>y = shortcut + scale·branch over the whole batch, element ranges split across threads.</summary>
    private void EmitResidualAddStage(ResidualEndStep end, string name, string scale, string what)
    {
        OpenStage(name, $"{end.Layer.Name}: y = {end.ShortcutBuffer} ({(end.Projection is null ? "shortcut" : "projection shortcut")}) + g·{end.InputBuffer} (branch), {what}; element ranges split across threads.");
        _w.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {end.OutFloats}, part, parts, 16);");
        _w.Line($"if (e0 < e1) {K}Residual.Add<TIsa>({All(end.ShortcutBuffer, end.OutFloats)}, {All(end.InputBuffer, end.OutFloats)}, {scale}, {All(end.OutputBuffer, end.OutFloats)}, e0, e1);");
        _w.Close();
        _w.Line();
    }

    /// <summary>A per-sample normalisation's forward stage (the same in training and inference), samples split across threads.</summary>
    private void EmitNormForwardStage(NormStep n)
    {
        string what = n.Layer.Kind switch
        {
            LayerKind.LayerNorm => $"over all {n.OutFloats} values of each sample",
            LayerKind.InstanceNorm => $"per sample and channel over {n.OutPixels} pixels",
            _ => $"per sample over each group of {n.OutWidth / n.Groups} channels × {n.OutPixels} pixels",
        };
        OpenStage(SpecNaming.Pascal(n.Layer.Name) + "Forward", $"{n.Layer.Name}: y = γ·(x − μ)/sqrt(σ² + ε) + β with μ, σ² {what}; samples split across threads.");
        SampleRange();
        _w.Line($"{K}GroupNorm.Forward<TIsa>({All(n.InputBuffer, n.InFloats)}, {n.Gamma.Identifier}, {n.Beta.Identifier}, {All(n.OutputBuffer, n.OutFloats)},");
        _w.Line($"    _mean{n.Index}.Slice(0, _batch * {n.Groups}), _invStd{n.Index}.Slice(0, _batch * {n.Groups}), {n.OutPixels}, {n.OutWidth}, {n.Groups}, {Float(n.Layer.Epsilon)}, s0, s1);");
        _w.Close();
        _w.Line();
    }

    private static long PoolWork(PoolStep p) => p.Layer.Kind switch
    {
        LayerKind.GlobalAvgPool => p.InFloats,
        LayerKind.FractionalMaxPool => (long)p.InFloats * 2,
        _ => (long)p.OutFloats * p.Layer.KernelH * p.Layer.KernelW,
    };

    /// <summary>Rows of a whole batch when each sample has <paramref name="pixels"/> rows.</summary>
    private static string BatchRows(int pixels) => pixels == 1 ? "_batch" : $"_batch * {pixels}";

    /// <summary>Rows of the samples [r0, r1) when each sample has <paramref name="pixels"/> rows.</summary>
    private static string SampleRows(int pixels) => pixels == 1 ? "r1 - r0" : $"(r1 - r0) * {pixels}";

    private void SampleRange()
    {
        _w.Line($"(int s0, int s1) = {K}Partition.Range(_batch, part, parts, 1);");
        _w.Line("if (s0 >= s1) return;");
    }

    // ------------------------------------------------------------------ loss

    private void EmitLoss()
    {
        LossSpec loss = _spec.Loss!;
        int o = _plan.OutputSize;
        _w.Line("/// <summary>Mean loss of the last forward; with withGradient, dL/d(output) (already divided by the batch) goes to _g0.</summary>");
        _w.Open("protected override float ComputeLoss(bool useLabels, bool withGradient)");
        _w.Line("int batch = _batch;");
        _w.Line($"{ROSpan} output = {_plan.OutputBuffer}.Slice(0, batch * {o});");
        _w.Line($"{Span} gradient = withGradient ? _g0.Slice(0, batch * {o}) : default;");
        _w.Line("float scale = 1f / batch;");
        _w.Line("global::System.ReadOnlySpan<int> labels = new global::System.ReadOnlySpan<int>(_labels, 0, batch);");
        _w.Line($"{ROSpan} targets = _targets.Slice(0, batch * {o});");
        string labelsCall = loss.Kind switch
        {
            LossKind.SoftmaxCrossEntropy => $"{K}Losses.SoftmaxCrossEntropy(output, labels, gradient, batch, {o}, scale)",
            LossKind.MulticlassHinge => $"{K}Losses.MulticlassHinge(output, labels, gradient, batch, {o}, {Float(loss.Margin)}, scale)",
            LossKind.BinaryCrossEntropy => $"{K}Losses.BinaryCrossEntropy(output, labels, gradient, batch, scale)",
            _ => "throw new global::System.NotSupportedException(\"MeanSquaredError needs float targets.\")",
        };
        string targetsCall = loss.Kind switch
        {
            LossKind.SoftmaxCrossEntropy => $"{K}Losses.SoftmaxCrossEntropy(output, targets, gradient, batch, {o}, scale)",
            LossKind.BinaryCrossEntropy => $"{K}Losses.BinaryCrossEntropy(output, targets, gradient, batch, {o}, scale)",
            LossKind.MeanSquaredError => $"{K}Losses.MeanSquaredError(output, targets, gradient, batch, {o}, scale)",
            _ => "throw new global::System.NotSupportedException(\"MulticlassHinge needs integer labels.\")",
        };
        _w.Line($"float sum = useLabels ? {labelsCall} : {targetsCall};");
        _w.Line("return sum / batch;");
        _w.Close();
        _w.Line();
    }

    /// <summary>BatchNorm2D's statistics blocks hold as many whole samples as fit in this many rows, at least one (see <see cref="StatisticsBlockSamples"/>).</summary>
    private const int StatisticsBlockRows = 256;

    /// <summary>
    /// Samples per block of BatchNorm2D's reductions: fixed by the layer's shape alone, never by the thread count, so the
    /// blocks' sums — and, added in block order, the statistics — are the same bits however many threads share the stage.
    /// Whole samples, so that each thread reduces the samples the convolution before it wrote.
    /// </summary>
    private static int StatisticsBlockSamples(ChainStep c) => System.Math.Max(1, StatisticsBlockRows / c.OutPixels);

    /// <summary>The block range of one part in a BatchNorm2D reduction stage (whole blocks per thread).</summary>
    private void BlockRange(ChainStep c)
    {
        int blockRows = StatisticsBlockSamples(c) * c.OutPixels;
        _w.Line($"int blocks = {K}BatchNorm.BlockCount(_batch * {c.OutPixels}, {blockRows});");
        _w.Line($"(int b0, int b1) = {K}Partition.Range(blocks, part, parts, 1);");
        _w.Line("if (b0 >= b1) return;");
    }

    /// <summary>
    /// BatchNorm2D's training forward split by samples (Kiln.Kernels.BatchNorm's row-split pipeline): every thread
    /// keeps the samples the convolution before it wrote; only per-channel sums of fixed blocks cross threads, added in
    /// block order. Three parallel stages (sums, squared deviations, normalisation) with the combinations on the caller
    /// between them.
    /// </summary>
    private void EmitSplitBatchNormForward(ChainStep c, string mask, List<string> body)
    {
        LayerSpec bn = c.BatchNorm!;
        string target = c.PreActivationBuffer ?? c.OutputBuffer;
        string bnMask = c.ActivationIsElementwise ? mask : "default";
        int width = c.OutWidth, floats = c.OutFloats, pixels = c.OutPixels, blockRows = StatisticsBlockSamples(c) * pixels;
        string pascal = SpecNaming.Pascal(bn.Name), partial = $"_bnPartial{c.Index}";
        string work = $"(long)_batch * {floats * 4L}";
        string blocks = $"{K}BatchNorm.BlockCount(_batch * {pixels}, {blockRows})";
        string ownRows(string buffer) => $"{buffer}.Slice(s0 * {floats}, (s1 - s0) * {floats})";

        OpenStage(pascal + "Sums", $"{bn.Name}: per-channel sums of the thread's blocks of {blockRows} rows (their slots of {partial}).");
        BlockRange(c);
        _w.Line($"{K}BatchNorm.BlockSums<TIsa>({All(c.InputBuffer, floats)}, {partial}, _batch * {pixels}, {width}, {blockRows}, b0, b1);");
        _w.Close();
        _w.Line();
        OpenStage(pascal + "Squares", $"{bn.Name}: per-channel Σ(z − mean)² of the thread's blocks of {blockRows} rows (their slots of {partial}).");
        BlockRange(c);
        _w.Line($"{K}BatchNorm.BlockSquaredDeviations<TIsa>({All(c.InputBuffer, floats)}, _mean{c.Index}.Span, {partial}, _batch * {pixels}, {width}, {blockRows}, b0, b1);");
        _w.Close();
        _w.Line();
        OpenStage(pascal + "Forward", $"{c.Describe()}: normalisation{(c.ActivationIsElementwise ? " with the fused activation/dropout" : "")} of the thread's samples.");
        SampleRange();
        _w.Line($"{K}BatchNorm.NormalizeRows<TIsa, {ActivationType(c)}>({ownRows(c.InputBuffer)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, _mean{c.Index}.Span, _invStd{c.Index}.Span,");
        _w.Line($"    {(bnMask == "default" ? "default" : ownRows($"_mask{c.Index}"))}, {ownRows(target)}, (s1 - s0) * {pixels}, {width}, {ActivationStruct(c)});");
        _w.Close();
        _w.Line();

        body.Add($"Execute(Stages.{pascal}Sums, {work});");
        body.Add($"{K}BatchNorm.CombineMean({partial}, _mean{c.Index}.Span, _batch * {pixels}, {width}, {blocks});");
        body.Add($"Execute(Stages.{pascal}Squares, {work});");
        body.Add($"// A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).");
        body.Add($"{K}BatchNorm.CombineVariance({partial}, _mean{c.Index}.Span, _invStd{c.Index}.Span, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier},");
        body.Add($"    _batch * {pixels}, {width}, {blocks}, {Float(bn.Epsilon)}, {Float(bn.Momentum)}, _updateRunningStatistics && _learningRateScales[{c.Gamma.TrainableIndex}] != 0f);");
        body.Add($"Execute(Stages.{pascal}Forward, {work});");
    }

    /// <summary>
    /// BatchNorm2D's backward split by samples: the thread's blocks' parts of dγ/dβ (g stored in place), the sums combined
    /// on the caller in block order, then dz for the thread's samples, then the γ/β update (after every thread has read γ).
    /// </summary>
    private void EmitSplitBatchNormBackward(ChainStep c, string mask, string current, List<string> body)
    {
        LayerSpec bn = c.BatchNorm!;
        bool fused = c.ActivationIsElementwise;
        int width = c.OutWidth, floats = c.OutFloats, pixels = c.OutPixels, blockRows = StatisticsBlockSamples(c) * pixels;
        string pascal = SpecNaming.Pascal(bn.Name), partial = $"_bnPartial{c.Index}";
        string work = $"(long)_batch * {floats * 4L}";
        string ownRows(string buffer) => $"{buffer}.Slice(s0 * {floats}, (s1 - s0) * {floats})";

        OpenStage(pascal + "BackwardSums", $"{c.Describe()}: {(fused ? "dropout, activation and " : "")}the thread's blocks' parts of dβ = Σg and dγ = Σg·x̂ (g kept in {current}).");
        BlockRange(c);
        _w.Line($"{K}BatchNorm.BlockBackwardSums<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {All(current, floats)}, {(fused && mask != "default" ? All($"_mask{c.Index}", floats) : "default")}, {c.Gamma!.Identifier}, {c.Beta!.Identifier},");
        _w.Line($"    _mean{c.Index}.Span, _invStd{c.Index}.Span, {All(current, floats)}, {partial}, _batch * {pixels}, {width}, {blockRows}, b0, b1, {ActivationStruct(c)});");
        _w.Close();
        _w.Line();
        OpenStage(pascal + "Backward", $"{bn.Name}: dL/dz of the thread's samples from the whole batch's dγ and dβ.");
        SampleRange();
        _w.Line($"{K}BatchNorm.BackwardRows<TIsa>({ownRows(c.InputBuffer)}, {c.Gamma.Identifier}, _mean{c.Index}.Span, _invStd{c.Index}.Span, {c.Gamma.Identifier}Gradient, {c.Beta!.Identifier}Gradient,");
        _w.Line($"    {ownRows(current)}, (s1 - s0) * {pixels}, {width}, _batch * {pixels});");
        _w.Close();
        _w.Line();
        OpenStage(pascal + "Update", $"{bn.Name}: the γ/β update (after every thread has read γ for dL/dz).");
        _w.Line("if (part != 0) return;");
        _w.Line($"{StepFor(c.Gamma)}.Apply<TIsa>({c.Gamma.Identifier}, {c.Gamma.Identifier}Gradient, {States(c.Gamma)});");
        _w.Line($"{StepFor(c.Beta)}.Apply<TIsa>({c.Beta.Identifier}, {c.Beta.Identifier}Gradient, {States(c.Beta)});");
        _w.Close();
        _w.Line();

        body.Add($"Execute(Stages.{pascal}BackwardSums, {work});");
        body.Add($"{K}BatchNorm.CombineBackwardSums({partial}, {c.Gamma.Identifier}Gradient, {c.Beta.Identifier}Gradient, {width}, {K}BatchNorm.BlockCount(_batch * {pixels}, {blockRows}));");
        body.Add($"Execute(Stages.{pascal}Backward, {work});");
        body.Add($"if (_applyUpdate) Execute(Stages.{pascal}Update, 0);");
    }

    // ------------------------------------------------------------------ backward

    private void EmitBackward()
    {
        var body = new List<string>();
        string current = "_g0";
        for (int s = _plan.Steps.Count - 1; s >= 0; s--)
        {
            StepPlan step = _plan.Steps[s];
            if (step is ChainStep c)
            {
                bool hasParams = c.BatchNorm is not null || c.PReluAlpha is not null;
                bool upstreamTrainable = _plan.Steps.Take(s).Any(p => p is DenseStep or NormStep || p is ChainStep pc && (pc.BatchNorm is not null || pc.PReluAlpha is not null));
                if (!hasParams && !upstreamTrainable) continue;
                int width = c.OutWidth;
                int floats = c.OutFloats;
                string mask = c.HasDropout ? All($"_mask{c.Index}", floats) : "default";
                string maskRows = c.HasDropout ? Rows($"_mask{c.Index}", floats) : "default";
                body.Add($"// {c.Describe()} (in place on {current})");
                if (!c.ActivationIsElementwise || c.BatchNorm is null)
                {
                    string name = SpecNaming.Pascal((c.Activation ?? c.Dropout)!.Name) + "Backward";
                    string u = c.PreActivationBuffer ?? c.InputBuffer;
                    if (c.ActivationKind == ActivationKind.PReLU)
                    {
                        // α's gradient sums over every row, so one thread does the whole batch.
                        OpenStage(name, $"{c.Activation!.Name}: PReLU backward and α update (whole batch on one thread: dα sums over rows).");
                        _w.Line("if (part != 0) return;");
                        _w.Line($"{K}PRelu.Backward<TIsa>({All(u, floats)}, {c.PReluAlpha!.Identifier}, {All(current, floats)}, {mask}, {All(current, floats)}, {c.PReluAlpha.Identifier}Gradient, {BatchRows(c.OutPixels)}, {width});");
                        _w.Line($"if (_applyUpdate) {StepFor(c.PReluAlpha)}.Apply<TIsa>({c.PReluAlpha.Identifier}, {c.PReluAlpha.Identifier}Gradient, {States(c.PReluAlpha)});");
                        _w.Close();
                        _w.Line();
                        body.Add($"Execute(Stages.{name}, 0);");
                    }
                    else
                    {
                        OpenStage(name, $"{c.Describe()}: activation{(c.HasDropout ? " and dropout" : "")} backward, rows split across threads.");
                        RowRange();
                        if (c.ActivationKind == ActivationKind.Softmax)
                            _w.Line($"{K}Elementwise.SoftmaxBackward({Rows(c.OutputBuffer, floats)}, {Rows(current, floats)}, {Rows(current, floats)}, r1 - r0, {floats});");
                        else
                            _w.Line($"{K}Elementwise.ActivationBackward<TIsa, {ActivationType(c)}>({Rows(u, floats)}, {Rows(current, floats)}, {maskRows}, {Rows(current, floats)}, {ActivationStruct(c)});");
                        _w.Close();
                        _w.Line();
                        body.Add($"Execute(Stages.{name}, (long)_batch * {floats * 10L});");
                    }
                }
                if (c.BatchNorm is not null && c.IsSpatial) EmitSplitBatchNormBackward(c, mask, current, body);
                else if (c.BatchNorm is not null)
                {
                    string name = SpecNaming.Pascal(c.BatchNorm.Name) + "Backward";
                    bool fused = c.ActivationIsElementwise;
                    OpenStage(name, $"{c.Describe()}: {(fused ? "dropout, activation and " : "")}BatchNorm backward with the γ/β update, columns split across threads.");
                    _w.Line($"(int c0, int c1) = {K}Partition.Range({width}, part, parts, 16);");
                    _w.Line("if (c0 >= c1) return;");
                    _w.Line($"{K}BatchNorm.Backward<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {All(current, floats)}, {(fused ? mask : "default")}, {c.Gamma!.Identifier}, {c.Beta!.Identifier},");
                    _w.Line($"    _mean{c.Index}.Span, _invStd{c.Index}.Span, {All(current, floats)}, {c.Gamma.Identifier}Gradient, {c.Beta!.Identifier}Gradient, {BatchRows(c.OutPixels)}, {width}, c0, c1, {ActivationStruct(c)});");
                    _w.Open("if (_applyUpdate)");
                    _w.Line($"{StepFor(c.Gamma)}.Apply<TIsa>({Cols(c.Gamma.Identifier)}, {Cols(c.Gamma.Identifier + "Gradient")}, {States(c.Gamma, Cols)});");
                    _w.Line($"{StepFor(c.Beta)}.Apply<TIsa>({Cols(c.Beta.Identifier)}, {Cols(c.Beta.Identifier + "Gradient")}, {States(c.Beta, Cols)});");
                    _w.Close();
                    _w.Close();
                    _w.Line();
                    body.Add($"Execute(Stages.{name}, (long)_batch * {floats * 14L});");
                }
            }
            else if (step is ResidualEndStep end)
            {
                body.Add($"// {end.Layer.Name}: dL/d(shortcut) = dL/dy, dL/d(branch) = gate·dL/dy (dL/dy in {current})");
                if (end.KeepsOutputGradient) body.Add($"{All(current, end.OutFloats)}.CopyTo(_skip{end.Index}.Span);");
                if (end.Survival < 1)
                {
                    string name = SpecNaming.Pascal(end.Layer.Name) + "Backward";
                    OpenStage(name, $"{end.Layer.Name}: the branch's dL/dy = gate·dL/dy in place; element ranges split across threads.");
                    _w.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {end.OutFloats}, part, parts, 16);");
                    _w.Line($"if (e0 < e1) {K}Residual.ScaleGradient<TIsa>({All(current, end.OutFloats)}, _gate{end.Index}, {All(current, end.OutFloats)}, e0, e1);");
                    _w.Close();
                    _w.Line();
                    body.Add($"Execute(Stages.{name}, (long)_batch * {end.OutFloats});");
                }
            }
            else if (step is ResidualStartStep start)
            {
                ResidualEndStep closing = _plan.Steps.OfType<ResidualEndStep>().Single(e => e.Start == start);
                if (closing.Projection is { } projection)
                {
                    // dL/dx gets Pᵀ·dL/dy (into the free ping-pong buffer, then added); dP = xᵀ·dL/dy with the fused update.
                    string free = current == "_g0" ? "_g1" : "_g0";
                    body.Add($"// {start.Layer.Name} starts: the projection shortcut's backward from the kept dL/dy (_skip{closing.Index})");
                    EmitDenseBackward(projection, $"_skip{closing.Index}", free, body);
                    if (!closing.AddShortcutGradient) continue;
                    string addName = SpecNaming.Pascal(start.Layer.Name) + "Shortcut";
                    OpenStage(addName, $"{start.Layer.Name}: dL/dx = the branch's dL/dx + Pᵀ·dL/dy of the projection shortcut; element ranges split across threads.");
                    _w.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {start.OutFloats}, part, parts, 16);");
                    _w.Line($"if (e0 < e1) {K}Residual.Add<TIsa>({All(free, start.OutFloats)}, {All(current, start.OutFloats)}, 1f, {All(current, start.OutFloats)}, e0, e1);");
                    _w.Close();
                    _w.Line();
                    body.Add($"Execute(Stages.{addName}, (long)_batch * {start.OutFloats});");
                    continue;
                }
                if (!closing.AddShortcutGradient) continue;
                string name = SpecNaming.Pascal(start.Layer.Name) + "Shortcut";
                OpenStage(name, $"{start.Layer.Name}: dL/dx = the branch's dL/dx + the shortcut's dL/dy; element ranges split across threads.");
                _w.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {start.OutFloats}, part, parts, 16);");
                _w.Line($"if (e0 < e1) {K}Residual.Add<TIsa>(_skip{closing.Index}.Slice(0, _batch * {start.OutFloats}), {All(current, start.OutFloats)}, 1f, {All(current, start.OutFloats)}, e0, e1);");
                _w.Close();
                _w.Line();
                body.Add($"// {start.Layer.Name} starts: add the shortcut's gradient (dL/dx in {current})");
                body.Add($"Execute(Stages.{name}, (long)_batch * {start.OutFloats});");
            }
            else if (step is MaxoutStep maxout)
            {
                string next = current == "_g0" ? "_g1" : "_g0";
                string name = SpecNaming.Pascal(maxout.Layer.Name) + "Backward";
                OpenStage(name, $"{maxout.Layer.Name}: dL/dy goes to each unit's winning piece, zero to the others; samples split across threads.");
                RowRange();
                _w.Line($"{K}Maxout.Backward<TIsa>({Rows(current, maxout.OutFloats)}, new global::System.ReadOnlySpan<byte>({maxout.ArgmaxBuffer}, r0 * {maxout.OutFloats}, (r1 - r0) * {maxout.OutFloats}), {Rows(next, maxout.InFloats)}, {SampleRows(maxout.OutPixels)}, {maxout.OutWidth}, {maxout.Pieces});");
                _w.Close();
                _w.Line();
                body.Add($"// {maxout.Layer.Name} (dL/dy in {current})");
                body.Add($"Execute(Stages.{name}, (long)_batch * {(long)maxout.InFloats * 2});");
                current = next;
            }
            else if (step is NormStep norm)
            {
                string next = current == "_g0" ? "_g1" : "_g0";
                string name = SpecNaming.Pascal(norm.Layer.Name) + "Backward";
                OpenStage(name, $"{norm.Layer.Name}: dL/dx and dγ, dβ (summed over every sample, so one thread does the whole batch), then the γ/β update.");
                _w.Line("if (part != 0) return;");
                _w.Line($"{norm.Gamma.Identifier}Gradient.Clear();");
                _w.Line($"{norm.Beta.Identifier}Gradient.Clear();");
                _w.Line($"{K}GroupNorm.Backward<TIsa>({All(norm.InputBuffer, norm.InFloats)}, {All(current, norm.OutFloats)}, {norm.Gamma.Identifier}, _mean{norm.Index}.Slice(0, _batch * {norm.Groups}), _invStd{norm.Index}.Slice(0, _batch * {norm.Groups}),");
                _w.Line($"    {All(next, norm.InFloats)}, {norm.Gamma.Identifier}Gradient, {norm.Beta.Identifier}Gradient, {norm.OutPixels}, {norm.OutWidth}, {norm.Groups}, 0, _batch);");
                _w.Open("if (_applyUpdate)");
                _w.Line($"{StepFor(norm.Gamma)}.Apply<TIsa>({norm.Gamma.Identifier}, {norm.Gamma.Identifier}Gradient, {States(norm.Gamma)});");
                _w.Line($"{StepFor(norm.Beta)}.Apply<TIsa>({norm.Beta.Identifier}, {norm.Beta.Identifier}Gradient, {States(norm.Beta)});");
                _w.Close();
                _w.Close();
                _w.Line();
                body.Add($"// {norm.Layer.Name} (dL/dy in {current})");
                body.Add($"Execute(Stages.{name}, 0);");
                if (norm.NeedsInputGradient) current = next;
            }
            else if (step is PoolStep p)
            {
                if (!p.NeedsInputGradient) continue;
                string next = current == "_g0" ? "_g1" : "_g0";
                string name = SpecNaming.Pascal(p.Layer.Name) + "Backward";
                string dy = All(current, p.OutFloats), dx = All(next, p.InFloats);
                OpenStage(name, p.Layer.Kind switch
                {
                    LayerKind.MaxPool => $"{p.Layer.Name}: dL/dx gets each window's dL/dy at its argmax (zero elsewhere); samples split across threads.",
                    LayerKind.AvgPool => $"{p.Layer.Name}: dL/dx spreads each window's dL/dy evenly over its in-bounds cells; samples split across threads.",
                    LayerKind.FractionalMaxPool => $"{p.Layer.Name}: dL/dx gets each region's dL/dy at its argmax (zero elsewhere); samples split across threads.",
                    _ => $"{p.Layer.Name}: dL/dx = dL/dy / {p.InPixels} on every pixel; samples split across threads.",
                });
                SampleRange();
                _w.Line(p.Layer.Kind switch
                {
                    LayerKind.MaxPool => $"{K}Pooling.MaxBackward<TIsa>({dy}, new global::System.ReadOnlySpan<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), {dx}, in {p.GeometryField}, s0, s1);",
                    LayerKind.AvgPool => $"{K}Pooling.AvgBackward<TIsa>({dy}, {dx}, in {p.GeometryField}, s0, s1);",
                    LayerKind.FractionalMaxPool => $"{K}FractionalMaxPool.Backward<TIsa>({dy}, new global::System.ReadOnlySpan<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), {dx}, {p.InWidth}, {p.Height}, {p.Width}, {p.OutHeight}, {p.OutWidthPx}, s0, s1);",
                    _ => $"{K}Pooling.GlobalAvgBackward<TIsa>({dy}, {dx}, {p.InWidth}, {p.InPixels}, s0, s1);",
                });
                _w.Close();
                _w.Line();
                body.Add($"// {p.Layer.Name} (dL/dy in {current})");
                body.Add($"Execute(Stages.{name}, (long)_batch * {PoolWork(p)});");
                current = next;
            }
            else if (step is DenseStep d)
            {
                string next = current == "_g0" ? "_g1" : "_g0";
                EmitDenseBackward(d, current, next, body);
                if (!d.SkipInputGradient) current = next;
            }
        }
        _w.Line("/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>");
        _w.Open("private void Backward()");
        foreach (string line in body) _w.Line(line);
        _w.Close();
        _w.Line();
    }

    /// <summary>
    /// A Dense or Conv2D's backward stages with dL/dy in <paramref name="current"/>: dL/dx into <paramref name="next"/>
    /// (unless SkipInputGradient), then dW with the fused update.
    /// </summary>
    private void EmitDenseBackward(DenseStep d, string current, string next, List<string> body)
    {
        string layer = SpecNaming.Pascal(d.Layer.Name);
        string? column = d.Conv?.ColumnBuffer;
        body.Add($"// {d.Layer.Name} (dL/dy in {current})");
        if (!d.SkipInputGradient && column is not null)
        {
            string name = layer + "BackwardInput";
            int patches = d.OutPixels * d.GemmK, outputs = d.OutFloats, chunk = ConvChunk(d);
            OpenStage(name, $"{d.Layer.Name}: dL/d(patches) = dL/dy·Wᵀ (weights before this step's update), then col2im sums them into dL/dx, chunk by chunk; samples split across threads.");
            SampleRange();
            _w.Open($"for (int c0 = s0; c0 < s1; c0 += {chunk})");
            _w.Line($"int c1 = global::System.Math.Min(c0 + {chunk}, s1);");
            _w.Line($"{K}Gemm.BackwardInput<TIsa>({current}.Slice(c0 * {outputs}, (c1 - c0) * {outputs}), {TrainingWeights(d)}, _dcol.Slice(c0 * {patches}, (c1 - c0) * {patches}), (c1 - c0) * {d.OutPixels}, {d.GemmK}, {d.OutWidth});");
            _w.Line($"{K}Im2Col.Backward<TIsa>({All("_dcol", patches)}, {All(next, d.InFloats)}, in {d.Conv!.GeometryField}, channelsFirst: false, c0, c1);");
            _w.Close();
            _w.Close();
            _w.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
        }
        else if (!d.SkipInputGradient)
        {
            string name = layer + "BackwardInput";
            string target = column is null ? next : "_dcol";
            OpenStage(name, $"{d.Layer.Name}: dL/d{(column is null ? "x" : "(patches)")} = dL/dy·Wᵀ with the weights before this step's update, rows split across threads.");
            RowRange(BatchRows(d.OutPixels));
            _w.Line($"{K}Gemm.BackwardInput<TIsa>({Rows(current, d.OutWidth)}, {TrainingWeights(d)}, {Rows(target, d.GemmK)}, r1 - r0, {d.GemmK}, {d.OutWidth});");
            _w.Close();
            _w.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
        }
        if (d.Conv is not null || d.HasDropConnect)
            EmitBlockedBackwardWeights(d, current, body);
        else
        {
            string name = layer + "BackwardWeights";
            string rows = BatchRows(d.OutPixels);
            OpenStage(name, $"{d.Layer.Name}: dW = {(column is null ? "x" : "patches")}ᵀ·dL/dy, each panel of rows updated by the optimiser as soon as it is complete; weight rows split across threads.");
            _w.Line($"(int k0, int k1) = {K}Partition.Range({d.GemmK}, part, parts, 4);");
            _w.Line($"{ROSpan} x = {All(d.GemmInput, d.OutPixels * d.GemmK)};");
            _w.Line($"{ROSpan} dy = {All(current, d.OutFloats)};");
            _w.Open("if (k0 < k1)");
            _w.Open("if (_applyUpdate)");
            _w.Line($"var sink = new {K}UpdatePanelSink<TIsa>({d.Weight.Identifier}, {d.Weight.Identifier}Gradient, {States(d.Weight)}, {d.OutWidth}, {StepFor(d.Weight)});");
            _w.Line($"{K}Gemm.BackwardWeights<TIsa, {K}UpdatePanelSink<TIsa>>(x, dy, {d.Weight.Identifier}Gradient, {rows}, {d.GemmK}, {d.OutWidth}, k0, k1, ref sink);");
            _w.Close();
            _w.Open("else");
            _w.Line($"var sink = new {K}NoPanelSink();");
            _w.Line($"{K}Gemm.BackwardWeights<TIsa, {K}NoPanelSink>(x, dy, {d.Weight.Identifier}Gradient, {rows}, {d.GemmK}, {d.OutWidth}, k0, k1, ref sink);");
            _w.Close();
            _w.Close();
            if (d.Bias is not null)
            {
                _w.Line($"(int c0, int c1) = {K}Partition.Range({d.OutWidth}, part, parts, 16);");
                _w.Line("if (c0 >= c1) return;");
                _w.Line($"{K}Gemm.ColumnSums<TIsa>(dy, {d.Bias.Identifier}Gradient, {rows}, {d.OutWidth}, c0, c1);");
                _w.Line($"if (_applyUpdate) {StepFor(d.Bias)}.Apply<TIsa>({Cols(d.Bias.Identifier)}, {Cols(d.Bias.Identifier + "Gradient")}, {States(d.Bias, Cols)});");
            }
            _w.Close();
            _w.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
        }
    }

    /// <summary>Rows of one block of a convolution's weight-gradient reduction: its patches (≤ 400 KB for k ≤ 400) stay in L2 across the panels.</summary>
    private const int ConvGradientBlockRows = 256;

    /// <summary>
    /// dW = patchesᵀ·dL/dy for a convolution. The reduction runs over samples·pixels rows (thousands), so it
    /// is cut into blocks of rows whose patches stay in cache; each block's partial dW is added to the
    /// gradient, and the optimiser updates the thread's weight rows once all blocks are summed.
    /// </summary>
    private void EmitBlockedBackwardWeights(DenseStep d, string current, List<string> body)
    {
        string name = SpecNaming.Pascal(d.Layer.Name) + "BackwardWeights";
        int k = d.GemmK, n = d.OutWidth;
        string w = d.Weight.Identifier, g = w + "Gradient";
        string Mine(string x) => $"{x}.Slice(k0 * {n}, (k1 - k0) * {n})";
        OpenStage(name, $"{d.Layer.Name}: dW = {(d.Conv is null ? "x" : "patches")}ᵀ·dL/dy in blocks of {ConvGradientBlockRows} rows{(d.HasDropConnect ? ", masked by DropConnect" : "")}, then the optimiser update of the thread's weight rows; weight rows split across threads.");
        _w.Line($"(int k0, int k1) = {K}Partition.Range({k}, part, parts, 4);");
        _w.Line($"int rows = {BatchRows(d.OutPixels)};");
        _w.Line($"{ROSpan} x = {All(d.GemmInput, d.OutPixels * k)};");
        _w.Line($"{ROSpan} dy = {All(current, d.OutFloats)};");
        _w.Open("if (k0 < k1)");
        _w.Line($"var sink = new {K}NoPanelSink();");
        _w.Open($"for (int b0 = 0; b0 < rows; b0 += {ConvGradientBlockRows})");
        _w.Line($"int count = global::System.Math.Min({ConvGradientBlockRows}, rows - b0);");
        _w.Line($"{Span} target = b0 == 0 ? {g} : _dwScratch.Slice(0, {k * n});");
        _w.Line($"{K}Gemm.BackwardWeights<TIsa, {K}NoPanelSink>(x.Slice(b0 * {k}, count * {k}), dy.Slice(b0 * {n}, count * {n}), target, count, {k}, {n}, k0, k1, ref sink);");
        _w.Line($"if (b0 > 0) Accumulate({Mine("_dwScratch")}, {Mine(g)});");
        _w.Close();
        if (d.HasDropConnect)
            _w.Line($"{K}DropConnect.MaskGradient<TIsa>({g}, _connectMask{d.Index}.Slice(0, {k * n}), k0 * {n}, k1 * {n}); // dropped weights get no gradient");
        _w.Line($"if (_applyUpdate) {StepFor(d.Weight)}.Apply<TIsa>({Mine(w)}, {Mine(g)}, {States(d.Weight, Mine)});");
        _w.Close();
        if (d.Bias is not null)
        {
            _w.Line($"(int c0, int c1) = {K}Partition.Range({n}, part, parts, 16);");
            _w.Line("if (c0 >= c1) return;");
            _w.Line($"{K}Gemm.ColumnSums<TIsa>(dy, {d.Bias.Identifier}Gradient, rows, {n}, c0, c1);");
            _w.Line($"if (_applyUpdate) {StepFor(d.Bias)}.Apply<TIsa>({Cols(d.Bias.Identifier)}, {Cols(d.Bias.Identifier + "Gradient")}, {States(d.Bias, Cols)});");
        }
        _w.Close();
        _w.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * k * n});");
    }

    /// <summary>The step for one tensor: its learning-rate scale and penalties applied to this step's constants.</summary>
    private static string StepFor(TensorPlan t) => $"StepFor({t.TrainableIndex})";

    private static string Cols(string identifier) => $"{identifier}.Slice(c0, c1 - c0)";


    // ------------------------------------------------------------------ inference

    private void EmitInference()
    {
        bool anyFolded = _plan.Steps.OfType<DenseStep>().Any(d => d.FoldedInto is not null);
        bool anyPrepared = HasInferenceWeights;
        var body = new List<string>();
        var consumed = new HashSet<StepPlan>();
        var prePadded = new HashSet<StepPlan>();   // convolutions whose zero-bordered input a fused pool writes at small batches
        var splitInput = new Dictionary<StepPlan, string>();   // Dense layers whose small-batch product a fused conv+pool stage started (→ that stage)
        var adaptive = new List<DenseStep>();   // convolutions whose small-batch units split by measured thread speed (AdaptiveSplit)
        for (int s = 0; s < _plan.Steps.Count; s++)
        {
            StepPlan step = _plan.Steps[s];
            if (consumed.Contains(step)) continue;
            if (step is DenseStep d)
            {
                ChainStep? next = s + 1 < _plan.Steps.Count ? _plan.Steps[s + 1] as ChainStep : null;
                bool folded = d.FoldedInto is not null;
                string weights = InferenceWeights(d);
                string? bias = folded ? $"_folded.Slice({d.FoldedBiasOffset}, {d.OutWidth})" : d.Bias?.Identifier;
                string output = d.OutputBuffer;
                string epiType, epiValue, what;
                ChainStep? tail = null;
                if (next is not null && (next.BatchNorm is null || next.BatchNormFolded) && next.ActivationIsElementwise)
                {
                    // Bias, folded BatchNorm and the activation all happen on the GEMM's output tile.
                    epiType = $"{K}BiasActivationEpilogue<{ActivationType(next)}>";
                    epiValue = $"new {K}BiasActivationEpilogue<{ActivationType(next)}>({bias ?? "default"}, {ActivationStruct(next)})";
                    output = next.OutputBuffer;
                    consumed.Add(next);
                    tail = next;
                    what = (folded ? " with BatchNorm folded in" : "") + (next.Activation is not null ? $", {next.Activation.Name} fused" : "");
                }
                else
                {
                    epiType = bias is null ? $"{K}NoEpilogue" : $"{K}BiasEpilogue";
                    epiValue = bias is null ? $"new {K}NoEpilogue()" : $"new {K}BiasEpilogue({bias})";
                    if (next is not null && folded)
                    {
                        output = next.PreActivationBuffer!;
                        what = " with BatchNorm folded in";
                    }
                    else what = "";
                }
                string name = SpecNaming.Pascal(d.Layer.Name) + "Inference";
                string rows = BatchRows(d.OutPixels);
                body.Add($"// {d.Layer.Name}{what}");
                PoolStep? pool = null;
                DenseStep? splitDense = null;
                if (d.Conv?.ColumnBuffer is not null)
                {
                    // Small batches: no im2col, the output pixels split across threads (an implicit GEMM, or every tap in
                    // registers for shallow kernel rows); larger batches: im2col and GEMM chunk by chunk, samples split.
                    // The small-batch kernels read the zero-bordered copy, or the input itself when there is no padding.
                    string image = d.Conv.PaddedBuffer ?? d.InputBuffer;
                    bool shallow = d.Conv.SmallBatchKernel == SmallBatchConv.Shallow;
                    bool winograd = d.Conv.SmallBatchKernel == SmallBatchConv.Winograd;
                    pool = FusablePool(s, tail, output);
                    // Winograd splits 2×2 output tiles, so it fuses only a pool whose windows are exactly those tiles.
                    if (winograd && pool is not null && !IsWinogradTilePool(pool, d.Conv)) pool = null;
                    if (pool is not null) consumed.Add(pool);
                    if (prePadded.Contains(d)) body.Add($"// {d.Layer.Name}: below {SmallBatch} samples the fused pool before it has written its zero-bordered input");
                    else if (d.Conv.PaddedBuffer is not null)
                    {
                        EmitPadStage(d);
                        body.Add($"if (_batch < {SmallBatch}) Execute(Stages.{SpecNaming.Pascal(d.Layer.Name)}Pad, 0);");
                    }
                    DenseStep? padTarget = pool is null ? null : PaddedConsumer(pool);
                    if (padTarget is not null) prePadded.Add(padTarget);
                    splitDense = pool is null || padTarget is not null ? null : SplitInputConsumer(pool);
                    if (splitDense is not null) splitInput.Add(splitDense, name);
                    string input = d.Conv.PaddedBuffer is null ? "input" : "zero-bordered input";
                    string poolWhat = pool is null ? "" : $", then {pool.Layer.Name} on what each thread computed";
                    OpenStage(name, shallow
                        ? $"{d.Layer.Name} (eval){what}{poolWhat}: each tile of output pixels accumulates all {d.GemmK} taps in registers, reading the {input} (no im2col); small batches split output pixels across threads, larger ones samples."
                        : winograd
                        ? $"{d.Layer.Name} (eval){what}{poolWhat}: for small batches Winograd F(2×2, {d.Conv.KernelH}×{d.Conv.KernelW}) over the {input}, 2×2 output tiles split across threads; otherwise samples split, im2col and GEMM chunk by chunk."
                        : $"{d.Layer.Name} (eval){what}{poolWhat}: for small batches an implicit GEMM over the {input} (no im2col); otherwise samples split, im2col and GEMM chunk by chunk.");
                    _w.Open($"if (_batch < {SmallBatch})");
                    if (winograd)
                    {
                        // Tiles split across threads; with a fused pool, tile t is exactly the pool's output pixel t, so each
                        // thread pools what it computed.
                        _w.Line(pool is null
                            ? "// 2×2 output tiles split across threads."
                            : $"// {pool.Layer.Name}'s windows are the 2×2 Winograd tiles: its output pixels split across threads, each thread computes and pools its own tiles.");
                        _w.Line($"(int p0, int p1) = _split{d.Index}.Range(_batch * {d.Conv.WinogradTiles}, part, parts{Granule(splitDense, pool)});");
                        _w.Line("if (p0 >= p1) return;");
                        _w.Line($"{K}WinogradConv.Forward<TIsa, {epiType}>({All(image, d.Conv.PaddedSize)}, _winograd.Slice({d.Conv.WinogradOffset}, {d.Conv.WinogradLength}), {All(output, d.OutFloats)}, in {d.Conv.GeometryField}, {d.OutWidth}, p0, p1, {epiValue});");
                        if (pool is not null) EmitPoolPixels(pool, padTarget, output, d);
                        if (splitDense is not null) EmitPartialProduct(splitDense, pool!);
                    }
                    else
                    {
                        string kernel = $"{K}{(shallow ? "ShallowConv" : "DirectConv")}.Forward<TIsa, {epiType}>({All(image, d.Conv.PaddedSize)}, {weights}, {All(output, d.OutFloats)}, in {d.Conv.GeometryField}, {d.OutWidth}";
                        if (pool is null)
                        {
                            _w.Line("// Output pixels split across threads.");
                            _w.Line($"(int r0, int r1) = _split{d.Index}.Range({rows}, part, parts);");
                            _w.Line("if (r0 >= r1) return;");
                            _w.Line($"{kernel}, r0, r1, {epiValue});");
                        }
                        else
                        {
                            // Split by the pool's output pixels: each thread convolves exactly the pixels its windows read (rows
                            // and columns past the last window go with the row's or sample's end) and pools them from its cache.
                            _w.Line($"// {pool.Layer.Name}'s output pixels split across threads; each thread convolves the pixels its windows read, then pools them.");
                            _w.Line($"(int p0, int p1) = _split{d.Index}.Range(_batch * {pool.OutHeight * pool.OutWidthPx}, part, parts{Granule(splitDense, pool)});");
                            _w.Line("if (p0 >= p1) return;");
                            _w.Line($"global::System.Span<(int Start, int End)> segments = stackalloc (int, int)[{K}Pooling.MaxInputSegments(in {pool.GeometryField})];");
                            _w.Line($"int count = {K}Pooling.InputSegments(in {pool.GeometryField}, p0, p1, segments);");
                            _w.Line($"for (int i = 0; i < count; i++) {kernel}, segments[i].Start, segments[i].End, {epiValue});");
                            EmitPoolPixels(pool, padTarget, output, d);
                            if (splitDense is not null) EmitPartialProduct(splitDense, pool);
                        }
                    }
                    _w.Line($"_split{d.Index}.Finish(part);");
                    _w.Line("return;");
                    _w.Close();
                    adaptive.Add(d);
                    if (shallow) EmitShallowConvChunks(d, image, weights, output, epiType, epiValue, pool);
                    else EmitConvForwardChunks(d, weights, output, epiType, epiValue);
                    if (pool is not null && !shallow) EmitPoolSamples(pool, All(output, d.OutFloats), "s0", "s1");
                    _w.Close();
                    _w.Line();
                }
                else
                {
                    // Small batches: the sum of the row products a fused conv+pool stage left (split-input Dense, on the
                    // calling thread), or output columns split so each core streams its share of W.
                    bool summed = splitInput.TryGetValue(d, out string? producer);
                    OpenStage(name, summed
                        ? $"{d.Layer.Name} (eval){what}; rows split across threads, or for small batches the sum of the partial products {producer}'s threads left (on the calling thread)."
                        : $"{d.Layer.Name} (eval){what}; rows split across threads, or columns for small batches (each core then streams half of W).");
                    _w.Open($"if ({rows} < {SmallBatch})");
                    if (summed)
                    {
                        _w.Line($"// {producer} left one partial product per pool row of each sample; the rows of a sample add up to its x·W.");
                        _w.Line($"{K}Gemm.SumParts<TIsa, {epiType}>(_splitPartial{d.Index}.Span, {SplitBlocks(d)}, {SplitSlot(d)}, {All(output, d.OutFloats)}, {rows}, {d.OutWidth}, {epiValue});");
                    }
                    else
                    {
                        _w.Line($"(int c0, int c1) = {K}Partition.Range({d.OutWidth}, part, parts, 16);");
                        _w.Line($"if (c0 < c1) {K}Gemm.Forward<TIsa, {epiType}>({All(d.GemmInput, d.OutPixels * d.GemmK)}, {weights}, {All(output, d.OutFloats)}, {rows}, {d.GemmK}, {d.OutWidth}, c0, c1, {epiValue});");
                    }
                    _w.Line("return;");
                    _w.Close();
                    RowRange(rows);
                    _w.Line($"{K}Gemm.Forward<TIsa, {epiType}>({Rows(d.GemmInput, d.GemmK)}, {weights}, {Rows(output, d.OutWidth)}, r1 - r0, {d.GemmK}, {d.OutWidth}, {epiValue});");
                    _w.Close();
                    _w.Line();
                }
                long flops = 2L * d.OutPixels * d.GemmK * d.OutWidth;
                if (d.Conv is null)
                {
                    // A small batch is bound by streaming W, not by its FLOPs: count each weight as WeightReadWork
                    // FLOPs of time, so that a large layer splits its columns across cores even at batch 1.
                    if (splitInput.ContainsKey(d))
                        body.Add($"Execute(Stages.{name}, _batch < {SmallBatch} ? 0 : global::System.Math.Max((long)_batch * {flops}, {d.Weight.Length * WeightReadWork}L)); // small batches: the sum of the parts, on this thread");
                    else
                        body.Add($"Execute(Stages.{name}, global::System.Math.Max((long)_batch * {flops}, {d.Weight.Length * WeightReadWork}L)); // at least the time to stream W");
                }
                else
                {
                    // The register-tile kernel spends a broadcast on every FMA: about half the GEMM's rate, so twice the work.
                    // Winograd's work is its products, (r+1)² per tile, input and output channel (transforms not counted).
                    long convWork = d.Conv.SmallBatchKernel switch
                    {
                        SmallBatchConv.Shallow => 2 * flops,
                        SmallBatchConv.Winograd => 2L * d.Conv.WinogradTiles * (d.Conv.KernelH + 1) * (d.Conv.KernelH + 1) * d.Conv.Channels * d.OutWidth,
                        _ => flops,
                    };
                    long work = convWork + (pool is null ? 0 : PoolWork(pool));
                    if (pool is not null) body.Add($"// {pool.Layer.Name} (eval) runs in {name}");
                    body.Add($"Execute(Stages.{name}, (long)_batch * {work});");
                    if (adaptive.Contains(d)) body.Add($"if (_batch < {SmallBatch}) _split{d.Index}.Learn(); // next call's split follows this call's thread speeds");
                }
                if (tail is not null) AddTestTimeScale(body, tail);
                else if (next is not null && folded)
                {
                    consumed.Add(next);
                    AddNonElementwiseEval(body, next, next.PreActivationBuffer!);
                    AddTestTimeScale(body, next);
                }
            }
            else if (step is ResidualEndStep end)
            {
                string name = SpecNaming.Pascal(end.Layer.Name) + "Inference";
                if (end.Projection is { } projection)
                {
                    body.Add($"// {end.Layer.Name}: projection shortcut P(x) (the training forward's stage; nothing in it depends on the mode)");
                    body.Add($"Execute(Stages.{SpecNaming.Pascal(projection.Layer.Name)}Forward, (long)_batch * {2L * projection.OutPixels * projection.GemmK * projection.OutWidth});");
                }
                EmitResidualAddStage(end, name, Float(end.Survival), $"test: every block is used, the branch scaled by its survival probability {end.Survival.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
                body.Add($"// {end.Layer.Name} (eval)");
                body.Add($"Execute(Stages.{name}, (long)_batch * {end.OutFloats * 2L});");
            }
            else if (step is MaxoutStep maxout)
            {
                body.Add($"// {maxout.Layer.Name} (eval)");
                body.Add($"Execute(Stages.{SpecNaming.Pascal(maxout.Layer.Name)}Forward, (long)_batch * {(long)maxout.InFloats * 2});");
            }
            else if (step is NormStep norm)
            {
                body.Add($"// {norm.Layer.Name} (eval: the same per-sample statistics as in training)");
                body.Add($"Execute(Stages.{SpecNaming.Pascal(norm.Layer.Name)}Forward, (long)_batch * {8L * norm.OutFloats});");
            }
            else if (step is PoolStep { Layer.Kind: LayerKind.FractionalMaxPool } fractional)
            {
                string name = SpecNaming.Pascal(fractional.Layer.Name) + "Inference";
                int draws = fractional.Layer.Units;
                OpenStage(name, $"{fractional.Layer.Name} (eval): the mean of the maxima over {draws} fixed region layouts; samples split across threads.");
                SampleRange();
                _w.Line($"{K}FractionalMaxPool.ForwardAverage<TIsa>({All(fractional.InputBuffer, fractional.InFloats)}, {All(fractional.OutputBuffer, fractional.OutFloats)}, s_testRows{fractional.Index}, s_testCols{fractional.Index}, {draws},");
                _w.Line($"    {fractional.InWidth}, {fractional.Height}, {fractional.Width}, {fractional.OutHeight}, {fractional.OutWidthPx}, s0, s1);");
                _w.Close();
                _w.Line();
                body.Add($"// {fractional.Layer.Name} (eval)");
                body.Add($"Execute(Stages.{name}, (long)_batch * {PoolWork(fractional) * draws});");
            }
            else if (step is PoolStep p)
            {
                body.Add($"// {p.Layer.Name} (eval)");
                body.Add($"Execute(Stages.{SpecNaming.Pascal(p.Layer.Name)}Forward, (long)_batch * {PoolWork(p)});");
            }
            else if (step is ChainStep c)
            {
                int width = c.OutWidth;
                int floats = c.OutFloats;
                body.Add($"// {c.Describe()} (eval)");
                if (c.BatchNorm is not null)
                {
                    double outScale = c.ActivationIsElementwise ? TestTimeScale(c) : 1;
                    string target = c.ActivationIsElementwise ? c.OutputBuffer : c.PreActivationBuffer!;
                    body.Add($"{K}BatchNorm.ForwardEval<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier}, {All(target, floats)}, {BatchRows(c.OutPixels)}, {width}, {Float(c.BatchNorm.Epsilon)}, {Float(outScale)}, {ActivationStruct(c)});");
                    if (!c.ActivationIsElementwise)
                    {
                        AddNonElementwiseEval(body, c, c.PreActivationBuffer!);
                        AddTestTimeScale(body, c);
                    }
                }
                else
                {
                    if (c.ActivationIsElementwise)
                        body.Add($"{K}Elementwise.ActivationForward<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, default, {All(c.OutputBuffer, floats)}, {ActivationStruct(c)});");
                    else AddNonElementwiseEval(body, c, c.InputBuffer);
                    AddTestTimeScale(body, c);
                }
            }
        }
        foreach (DenseStep conv in adaptive)
        {
            _w.Line($"// {conv.Layer.Name} at small batches: its units split across threads in proportion to each thread's measured speed.");
            _w.Line($"private readonly {K}AdaptiveSplit _split{conv.Index} = new({K}WorkerPool.Current.Parallelism);");
        }
        if (adaptive.Count > 0) _w.Line();
        foreach (KeyValuePair<StepPlan, string> split in splitInput)
        {
            var dense = (DenseStep)split.Key;
            _w.Line($"// {dense.Layer.Name} at small batches: one partial product x·W per pool row of each sample, computed in {split.Value}, added by {SpecNaming.Pascal(dense.Layer.Name)}Inference.");
            _w.Line($"private readonly {K}Arena _splitPartial{dense.Index} = new({System.Math.Min(_plan.MaxBatch, SmallBatch - 1) * SplitBlocks(dense) * SplitSlot(dense)});");
            _w.Line();
        }
        _w.Line("/// <summary>Eval-mode forward over _batch rows of _x.</summary>");
        _w.Open("protected override void ForwardInference()");
        if (anyPrepared) _w.Line("if (_inferenceWeightsStale) PrepareInferenceWeights();");
        _w.Open("switch (_isa)");
        _w.Line($"case global::Kiln.IsaPath.Avx512: ForwardInference<{K}Avx512Path>(); break;");
        _w.Line($"case global::Kiln.IsaPath.Avx2: ForwardInference<{K}Avx2Path>(); break;");
        _w.Line($"default: ForwardInference<{K}PortablePath>(); break;");
        _w.Close();
        _w.Close();
        _w.Line();
        _w.Open($"private void ForwardInference<TIsa>() {IsaConstraint}");
        foreach (string line in body) _w.Line(line);
        _w.Close();
        _w.Line();

        if (anyPrepared)
        {
            var winogradConvs = _plan.Steps.OfType<DenseStep>().Where(d => d.Conv is { SmallBatchKernel: SmallBatchConv.Winograd }).ToList();
            _w.Line("/// <summary>");
            if (anyFolded) _w.Line("/// Folds each BatchNorm's running statistics into the Dense or Conv2D before it: W' = W·γ/σ, b' = (b − μ)·γ/σ + β.");
            if (winogradConvs.Count > 0) _w.Line($"/// Transforms the{(anyFolded ? " (folded)" : "")} weights of each Winograd convolution for small-batch inference: U = G·g·Gᵀ.");
            _w.Line("/// </summary>");
            _w.Open("private void PrepareInferenceWeights()");
            foreach (DenseStep d in _plan.Steps.OfType<DenseStep>().Where(d => d.FoldedInto is not null))
            {
                ChainStep c = d.FoldedInto!;
                _w.Line($"{K}BatchNorm.Fold({d.Weight.Identifier}, {(d.Bias is null ? "default" : d.Bias.Identifier)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier}, {Float(c.BatchNorm!.Epsilon)},");
                _w.Line($"    _folded.Slice({d.FoldedWeightOffset}, {d.GemmK * d.OutWidth}), _folded.Slice({d.FoldedBiasOffset}, {d.OutWidth}), {d.GemmK}, {d.OutWidth});");
            }
            foreach (DenseStep d in winogradConvs)
            {
                string weights = d.FoldedInto is not null ? $"_folded.Slice({d.FoldedWeightOffset}, {d.GemmK * d.OutWidth})" : d.Weight.Identifier;
                _w.Line($"{K}WinogradConv.TransformWeights({weights}, _winograd.Slice({d.Conv!.WinogradOffset}, {d.Conv.WinogradLength}), in {d.Conv.GeometryField}, {d.OutWidth}); // {d.Layer.Name}");
            }
            _w.Line("_inferenceWeightsStale = false;");
            _w.Close();
            _w.Line();
        }
    }

    private static double TestTimeScale(ChainStep c) => c.Dropout is { Scaling: DropoutScalingKind.TestTime } dropout ? 1 - dropout.Rate : 1;

    /// <summary>
    /// The max or average pool that reads a convolution's inference output right after it (and after the BatchNorm and
    /// activation fused into it) when its windows tile that output without overlap or padding: the convolution's
    /// inference stage then pools each thread's own rows, with no hand-off between the two. Null otherwise.
    /// </summary>
    private PoolStep? FusablePool(int convIndex, ChainStep? tail, string output)
    {
        if (tail is not null && TestTimeScale(tail) != 1) return null;   // the output is rescaled after the convolution
        int after = convIndex + (tail is null ? 1 : 2);
        if (after >= _plan.Steps.Count || _plan.Steps[after] is not PoolStep { Layer.Kind: LayerKind.MaxPool or LayerKind.AvgPool } pool) return null;
        LayerSpec l = pool.Layer;
        return pool.InputBuffer == output && l.Padding == 0 && l.KernelH == l.Stride && l.KernelW == l.Stride ? pool : null;
    }

    /// <summary>The weights Predict multiplies by: BatchNorm folded in when one follows, the parameters otherwise.</summary>
    private static string InferenceWeights(DenseStep d) =>
        d.FoldedInto is not null ? $"_folded.Slice({d.FoldedWeightOffset}, {d.GemmK * d.OutWidth})" : d.Weight.Identifier;

    /// <summary>
    /// The Dense layer right after a fused small-batch pool that alone reads the pool's output: the fused stage then starts
    /// its product, each thread multiplying the features it pooled by its rows of W (<see cref="EmitPartialProduct"/>),
    /// so the features never cross cores and the Dense needs no parallel stage. Null otherwise.
    /// </summary>
    private DenseStep? SplitInputConsumer(PoolStep pool)
    {
        int index = _plan.Steps.IndexOf(pool);
        if (index + 1 >= _plan.Steps.Count || _plan.Steps[index + 1] is not DenseStep { Conv: null, IsProjection: false } next) return null;
        if (next.InputBuffer != pool.OutputBuffer || next.GemmInput != pool.OutputBuffer || next.GemmK != pool.OutFloats) return null;
        foreach (StepPlan step in _plan.Steps)
        {
            if (step != next && step.InputBuffer == pool.OutputBuffer) return null;
            if (step is ResidualEndStep end && (end.ShortcutBuffer == pool.OutputBuffer || end.Start.InputBuffer == pool.OutputBuffer)) return null;
        }
        return next;
    }

    /// <summary>Floats between two blocks' partial products of a split-input Dense: its outputs rounded up to whole cache lines.</summary>
    private static int SplitSlot(DenseStep d) => (d.OutWidth + 15) / 16 * 16;

    /// <summary>", granule: W" (a pool row of W pixels) when a split-input Dense's blocks must not be cut; empty otherwise.</summary>
    private static string Granule(DenseStep? splitDense, PoolStep? pool) =>
        splitDense is null || pool is null ? "" : $", granule: {pool.OutWidthPx}";

    /// <summary>Partial products per sample of a split-input Dense: one per row of the pool before it.</summary>
    private int SplitBlocks(DenseStep d) => ((PoolStep)_plan.Steps[_plan.Steps.IndexOf(d) - 1]).OutHeight;

    /// <summary>In a fused conv+pool stage: the partial products of the next Dense over this thread's pool rows [p0, p1) / width.</summary>
    private void EmitPartialProduct(DenseStep dense, PoolStep pool)
    {
        int rowFeatures = pool.OutWidthPx * pool.OutWidth;
        _w.Line($"// {dense.Layer.Name}'s inputs split the same way: one partial product per pool row this thread pooled, by that row's rows of W ({dense.Layer.Name}'s stage adds them).");
        _w.Line($"{K}Gemm.PartialForward<TIsa>({All(pool.OutputBuffer, pool.OutFloats)}, {InferenceWeights(dense)}, _splitPartial{dense.Index}.Span, _batch, {dense.GemmK}, {dense.OutWidth}, {rowFeatures}, p0 / {pool.OutWidthPx}, p1 / {pool.OutWidthPx}, {SplitSlot(dense)});");
    }

    /// <summary>True when the pool's windows are the Winograd kernel's 2×2 output tiles: 2×2, stride 2, over even output sides.</summary>
    private static bool IsWinogradTilePool(PoolStep pool, ConvPlan conv) =>
        pool.Layer.KernelH == 2 && pool.Layer.KernelW == 2 && pool.Layer.Stride == 2 && pool.Layer.Padding == 0
        && conv.OutHeight % 2 == 0 && conv.OutWidth % 2 == 0;

    /// <summary>A fused small-batch pool over its output pixels [p0, p1), into the next convolution's zero-bordered input when it has one.</summary>
    private void EmitPoolPixels(PoolStep pool, DenseStep? padTarget, string output, DenseStep d)
    {
        string pooled = padTarget is null
            ? $"{All(pool.OutputBuffer, pool.OutFloats)}, in {pool.GeometryField}, p0, p1"
            : $"{All(padTarget.Conv!.PaddedBuffer!, padTarget.Conv.PaddedSize)}, in {pool.GeometryField}, p0, p1, border: {padTarget.Conv.Padding}";
        if (padTarget is not null)
            _w.Line($"// Straight into {padTarget.Layer.Name}'s zero-bordered input (its border stays 0: nothing else writes it), so {padTarget.Layer.Name} needs no copy.");
        _w.Line($"{K}Pooling.{(pool.Layer.Kind == LayerKind.MaxPool ? "Max" : "Avg")}ForwardPixels<TIsa>({All(output, d.OutFloats)}, {pooled});");
    }

    /// <summary>
    /// The convolution right after a fused pool that reads the pool's output, and nothing else does, through a
    /// zero-bordered copy at small batches: the fused stage can then pool straight into that copy. Null otherwise.
    /// </summary>
    private DenseStep? PaddedConsumer(PoolStep pool)
    {
        int index = _plan.Steps.IndexOf(pool);
        if (index + 1 >= _plan.Steps.Count || _plan.Steps[index + 1] is not DenseStep { Conv: { ColumnBuffer: not null, PaddedBuffer: not null } } next) return null;
        if (next.InputBuffer != pool.OutputBuffer) return null;
        foreach (StepPlan step in _plan.Steps)
        {
            if (step != next && step.InputBuffer == pool.OutputBuffer) return null;
            if (step is ResidualEndStep end && (end.ShortcutBuffer == pool.OutputBuffer || end.Start.InputBuffer == pool.OutputBuffer)) return null;
        }
        return next;
    }

    private void AddTestTimeScale(List<string> body, ChainStep c)
    {
        double scale = TestTimeScale(c);
        if (scale != 1)
            body.Add($"{K}Elementwise.Scale<TIsa>({All(c.OutputBuffer, c.OutFloats)}, {Float(scale)}, {All(c.OutputBuffer, c.OutFloats)}); // vanilla dropout: × keep probability at test");
    }

    private void AddNonElementwiseEval(List<string> body, ChainStep c, string source)
    {
        int width = c.OutWidth, floats = c.OutFloats;
        if (c.ActivationKind == ActivationKind.PReLU)
            body.Add($"{K}PRelu.Forward<TIsa>({All(source, floats)}, {c.PReluAlpha!.Identifier}, default, {All(c.OutputBuffer, floats)}, {BatchRows(c.OutPixels)}, {width});");
        else if (c.ActivationKind == ActivationKind.Softmax)
            body.Add($"{K}Elementwise.SoftmaxForward({All(source, floats)}, {All(c.OutputBuffer, floats)}, _batch, {floats});");
        else
            body.Add($"{K}Elementwise.ActivationForward<TIsa, {ActivationType(c)}>({All(source, floats)}, default, {All(c.OutputBuffer, floats)}, {ActivationStruct(c)});");
    }
}
