using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Emitting;

// Model-independent plumbing of the generated class: the stage dispatcher (ISA switch, worker pool) and the
// argument checks of the public batch entry points.
internal sealed partial class ModelEmitter
{
    private void EmitStageDispatch()
    {
        _w.Line($"/// <summary>Runs a stage on the calling thread when it is too small to share, otherwise on the worker pool.</summary>");
        _w.Open("private void Execute(int stage, long work)");
        _w.Line("if (PartsFor(work) == 1) RunStage(stage, 0, 1);");
        _w.Line("else _pool.Run(this, stage);");
        _w.Close();
        _w.Line();
        _w.Line("/// <summary>How many parts Execute splits a stage of this much work into (1: on the calling thread).</summary>");
        _w.Line($"private int PartsFor(long work) => work < {ParallelWorkThreshold} || _pool.Parallelism == 1 ? 1 : _pool.Parallelism;");
        _w.Line();
        _w.Line("void global::Kiln.Kernels.IParallelStages.RunStage(int stage, int part, int parts) => RunStage(stage, part, parts);");
        _w.Line();
        _w.Open("private void RunStage(int stage, int part, int parts)");
        _w.Open("switch (_isa)");
        _w.Line($"case global::Kiln.IsaPath.Avx512: RunStage<{K}Avx512Path>(stage, part, parts); break;");
        _w.Line($"case global::Kiln.IsaPath.Avx2: RunStage<{K}Avx2Path>(stage, part, parts); break;");
        _w.Line($"default: RunStage<{K}PortablePath>(stage, part, parts); break;");
        _w.Close();
        _w.Close();
        _w.Line();
        _w.Line("/// <summary>Stage numbers for the worker pool, one per parallel pass.</summary>");
        _w.Open("private static class Stages");
        for (int i = 0; i < _stages.Count; i++)
            _w.Line($"public const int {_stages[i].Name} = {i};");
        _w.Close();
        _w.Line();
        _w.Open($"private void RunStage<TIsa>(int stage, int part, int parts) {IsaConstraint}");
        _w.Open("switch (stage)");
        for (int i = 0; i < _stages.Count; i++)
            _w.Line($"case Stages.{_stages[i].Name}: {_stages[i].Name}<TIsa>(part, parts); break;");
        _w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(stage));");
        _w.Close();
        _w.Close();
        _w.Line();
    }

    private void EmitChecks()
    {
        LossSpec loss = _spec.Loss!;
        int classes = loss.Kind == LossKind.BinaryCrossEntropy ? 2 : _plan.OutputSize;
        _w.Block($$"""
            private void BeginBatch({{ROSpan}} inputs, int batch)
            {
                if ((uint)(batch - 1) >= MaxBatch)
                    throw new global::System.ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be between 1 and MaxBatch ({MaxBatch}) for {ModelName}.");
                CheckLength(inputs.Length, batch * InputSize, nameof(inputs), batch, "InputSize", InputSize);
                {{CopyInputsStatement()}}
                _batch = batch;
            }

            private void CopyLabels(global::System.ReadOnlySpan<int> labels, int batch, int firstRow = 0)
            {
                if (labels.Length != batch)
                    throw new global::System.ArgumentException($"labels has {labels.Length} entries; expected one per sample of the batch ({batch}).", nameof(labels));
                for (int i = 0; i < batch; i++)
                {
                    if ((uint)labels[i] >= {{classes}}u)
                        throw new global::System.ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{firstRow + i}] = {labels[i]} is not a class of {ModelName}: expected 0 to {{classes - 1}}.");
                }
                labels.CopyTo(_labels);
            }

            private void CopyTargets({{ROSpan}} targets, int batch)
            {
                CheckLength(targets.Length, batch * OutputSize, nameof(targets), batch, "OutputSize", OutputSize);
                global::Kiln.DataGuard.CheckTargets(targets, batch, OutputSize, Loss, ModelName);
                targets.CopyTo(_targets.Span);
            }

            private static void CheckLength(int actual, int expected, string argument, int batch, string widthName, int width)
            {
                if (actual != expected)
                    throw new global::System.ArgumentException($"{argument} has {actual} floats; expected batch × {widthName} = {batch} × {width} = {expected}.", argument);
            }

            private static void CheckCount(int inputFloats, int labelCount, int count, string labelArgument)
            {
                if (count <= 0) throw new global::System.ArgumentOutOfRangeException(nameof(count), count, "count must be positive: the loss and accuracy of no samples are undefined.");
                if (inputFloats < (long)count * InputSize)
                    throw new global::System.ArgumentException($"inputs has {inputFloats} floats; {count} samples need count × InputSize = {(long)count * InputSize}.", "inputs");
                if (labelCount < count)
                    throw new global::System.ArgumentException($"{labelArgument} has {labelCount} rows for {count} samples.", labelArgument);
            }

            private static void CheckTensor(global::Kiln.TensorInfo tensor)
            {
                if (global::System.Array.IndexOf(s_tensors, tensor) < 0)
                    throw new global::System.ArgumentException($"{tensor?.Name ?? "null"} is not a tensor of this model; use the instances from Tensors.", nameof(tensor));
            }

            private static int ArgMax({{ROSpan}} row)
            {
                int best = 0;
                for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
                return best;
            }
            """);
        if (_plan.DenseSteps.Any(d => d.Conv is not null || d.HasDropConnect))
        {
            _w.Line();
            _w.Block($$"""
                /// <summary>dst += src: adds one block's partial weight gradient.</summary>
                private static void Accumulate({{ROSpan}} src, {{Span}} dst)
                {
                    int i = 0;
                    int width = global::System.Numerics.Vector<float>.Count;
                    for (; i + width <= dst.Length; i += width)
                        (new global::System.Numerics.Vector<float>(dst.Slice(i)) + new global::System.Numerics.Vector<float>(src.Slice(i))).CopyTo(dst.Slice(i));
                    for (; i < dst.Length; i++) dst[i] += src[i];
                }
                """);
        }
        if (_plan.Steps.OfType<PoolStep>().Any(p => p.Layer.Kind == LayerKind.FractionalMaxPool))
        {
            _w.Line();
            _w.Block($$"""
                /// <summary>Fixed test-time layouts of fractional max pooling: offsets u = (d + 0.5)/draws, one set of outSize + 1 starts after another.</summary>
                private static int[] FractionalRegions(int inSize, int outSize, int draws)
                {
                    var starts = new int[draws * (outSize + 1)];
                    for (int d = 0; d < draws; d++)
                        global::Kiln.Kernels.FractionalMaxPool.Regions(inSize, outSize, (d + 0.5) / draws, global::System.MemoryExtensions.AsSpan(starts, d * (outSize + 1), outSize + 1));
                    return starts;
                }
                """);
        }
        if (_plan.TransposeInput)
        {
            _w.Line();
            _w.Block($$"""
                /// <summary>Copies NCHW inputs into _x as NHWC (channels-last), the layout every spatial layer works in.</summary>
                private void CopyChannelsLast({{ROSpan}} inputs, int batch)
                {
                    const int channels = {{_plan.InputShape[0]}}, pixels = {{_plan.InputShape[1] * _plan.InputShape[2]}};
                    {{Span}} x = _x.Span;{{ChannelsLastStatistics()}}
                    for (int s = 0; s < batch; s++)
                    {
                        int offset = s * InputSize;
                        for (int c = 0; c < channels; c++)
                            for (int p = 0; p < pixels; p++)
                                x[offset + p * channels + c] = {{ChannelsLastValue()}};
                    }
                }
                """);
        }
    }
}
