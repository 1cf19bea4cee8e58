using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0127 (pitfall 27): a Conv2D, MaxPool or AvgPool whose window (dilated span) is larger than the feature map it reads
/// along an axis: the strides and pooling before it have shrunk the image below the window, and only padding makes the
/// layer valid, so every window reads padding. (A window larger than the padded map is the generator's KLN0013.) The
/// message names the layers that shrank the map and the share of padding among the values read.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class WindowMostlyPaddingAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.WindowMostlyPadding;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.InputShape.Count < 2) return;
        SpecQueries.Shape[] shapes = SpecQueries.InputShapes(context.Parsed);
        var shrinking = new List<string>();
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            SpecQueries.Shape input = shapes[i], output = shapes[i + 1];
            if (!layer.IsSpatial || !input.Known || !input.Spatial) continue;
            if (layer.Kind is LayerKind.Conv2D or LayerKind.MaxPool or LayerKind.AvgPool)
            {
                long spanH = SpecQueries.Span(layer, layer.KernelH), spanW = SpecQueries.Span(layer, layer.KernelW);
                if ((spanH > input.Height || spanW > input.Width) && output.Known)
                {
                    string window = spanH + "×" + spanW + (layer.Dilation > 1 ? " (dilated)" : "");
                    string map = input.Height + "×" + input.Width;
                    string history = shrinking.Count == 0
                        ? "the model's input is already that small"
                        : $"the {spec.InputShape[spec.InputShape.Count - 2]}×{spec.InputShape[spec.InputShape.Count - 1]} input was shrunk by " + string.Join(", ", shrinking.Select(n => "'" + n + "'"));
                    context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name, window, map, history,
                        SpecQueries.Percent(SpecQueries.PaddingShare(layer, input)));
                }
            }
            if (output.Known && output.Spatial && (output.Height < input.Height || output.Width < input.Width)) shrinking.Add(layer.Name);
        }
    }
}
