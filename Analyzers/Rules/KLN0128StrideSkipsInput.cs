using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0128 (pitfall 28): a Conv2D, MaxPool or AvgPool that never reads some rows or columns of its input: its stride is
/// larger than its window (or its dilation leaves holes that the stride never fills). Computed exactly from the input
/// shape, kernel, stride, padding and dilation. Reported on the Stride argument (else the layer). The 1×1 projection
/// shortcut that [Residual(Projection = true)] adds is not reported: the branch beside it reads every value.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StrideSkipsInputAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.StrideSkipsInput;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.InputShape.Count < 2) return;
        SpecQueries.Shape[] shapes = SpecQueries.InputShapes(context.Parsed);
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            SpecQueries.Shape input = shapes[i];
            if (layer.Kind is not (LayerKind.Conv2D or LayerKind.MaxPool or LayerKind.AvgPool) || !input.Known || !input.Spatial || !shapes[i + 1].Known) continue;
            int rows = SpecQueries.RowsRead(layer, input.Height, layer.KernelH);
            int columns = SpecQueries.RowsRead(layer, input.Width, layer.KernelW);
            if (rows == input.Height && columns == input.Width) continue;
            double unread = 1 - (double)rows * columns / ((double)input.Height * input.Width);
            string window = layer.KernelH + "×" + layer.KernelW + (layer.Dilation > 1 ? $" (dilation {layer.Dilation})" : "");
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Stride"), layer.Name, window,
                "stride " + layer.Stride, SpecQueries.Percent(unread), input.ToString());
        }
    }
}
