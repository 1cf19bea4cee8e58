using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KLN0112 (pitfall 12): <c>Dropout(rate, Scaling = DropoutScaling.None)</c>. Reported on the Scaling argument.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnscaledDropoutAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.UnscaledDropout;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind != LayerKind.Dropout || layer.Scaling != DropoutScalingKind.None || layer.Rate == 0) continue;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Scaling"), layer.Name);
        }
    }
}
