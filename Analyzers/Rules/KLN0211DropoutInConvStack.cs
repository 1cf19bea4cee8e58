using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0211 (pitfall 11, first half): a Dropout that reads a spatial feature map (a Conv2D or pooling layer came before it
/// with no Flatten or GlobalAvgPool since) and is followed by another Conv2D before the stack ends. Dropout after the last
/// convolution, in the Dense head, is the recommended place and is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DropoutInConvStackAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.DropoutInConvStack;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        bool spatial = spec.InputShape.Count > 1;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.IsSpatial) spatial = layer.Kind != LayerKind.GlobalAvgPool;
            else if (layer.Kind is LayerKind.Flatten or LayerKind.Dense) spatial = false;
            if (layer.Kind != LayerKind.Dropout || !spatial) continue;
            int next = NextConvolution(spec, i + 1);
            if (next < 0) continue;
            context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name, spec.Layers[next].Name);
        }
    }

    /// <summary>The next Conv2D of the same stack (before a Flatten, GlobalAvgPool or Dense), or −1.</summary>
    private static int NextConvolution(ModelSpec spec, int start)
    {
        for (int i = start; i < spec.Layers.Count; i++)
        {
            LayerKind kind = spec.Layers[i].Kind;
            if (kind == LayerKind.Conv2D) return i;
            if (kind is LayerKind.Flatten or LayerKind.GlobalAvgPool or LayerKind.Dense) return -1;
        }
        return -1;
    }
}
