using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Emitting;

// The generated class's plumbing: the stage table the runtime's KilnModel dispatches through (it owns the ISA switch,
// the worker pool and the argument checks), and helpers that only some architectures need.
internal sealed partial class ModelEmitter
{
    /// <summary>
    /// The stage table: KilnModel.Execute runs a stage inline or on the worker pool and picks the ISA path; the three
    /// overrides close the generic dispatcher over each path, so every stage body is compiled once per path.
    /// </summary>
    private void EmitStageDispatch()
    {
        foreach (string path in new[] { "Avx512", "Avx2", "Portable" })
        {
            _w.Line(HotAttribute);
            _w.Line($"protected override void RunStage{path}(int stage, int part, int parts) => RunStage<{K}{path}Path>(stage, part, parts);");
        }
        _w.Line();
        _w.Line("/// <summary>Stage numbers for the worker pool, one per parallel pass.</summary>");
        _w.Open("private static class Stages");
        for (int i = 0; i < _stages.Count; i++)
            _w.Line($"public const int {_stages[i].Name} = {i};");
        _w.Close();
        _w.Line();
        _w.Line(HotAttribute);
        _w.Open($"private void RunStage<TIsa>(int stage, int part, int parts) {IsaConstraint}");
        _w.Open("switch (stage)");
        for (int i = 0; i < _stages.Count; i++)
            _w.Line($"case Stages.{_stages[i].Name}: {_stages[i].Name}<TIsa>(part, parts); break;");
        _w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(stage));");
        _w.Close();
        _w.Close();
    }

    /// <summary>Helpers only some architectures need (KilnModel holds the argument checks every model shares).</summary>
    private void EmitChecks()
    {
        if (_plan.Steps.OfType<PoolStep>().Any(p => p.Layer.Kind == LayerKind.FractionalMaxPool))
        {
            _w.Line();
            _w.Block($$"""
                /// <summary>Fixed test-time layouts of fractional max pooling: offsets u = (d + 0.5)/draws, one set of outSize + 1 starts after another.</summary>
                private static int[] FractionalRegions(int inSize, int outSize, int draws)
                {
                    var starts = new int[draws * (outSize + 1)];
                    for (int d = 0; d < draws; d++)
                        {{K}}FractionalMaxPool.Regions(inSize, outSize, (d + 0.5) / draws, global::System.MemoryExtensions.AsSpan(starts, d * (outSize + 1), outSize + 1));
                    return starts;
                }
                """);
        }
        if (_plan.TransposeInput)
        {
            _w.Line();
            _w.Block($$"""
                /// <summary>Copies NCHW inputs into _x as NHWC (channels-last), the layout every spatial layer works in.</summary>
                {{HotAttribute}}
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
