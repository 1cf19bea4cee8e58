using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KLN0312 (pitfall 12, advice): <c>Scaling = DropoutScaling.TestTime</c> ("vanilla" dropout) is correct but inverted is preferred.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TestTimeDropoutAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.TestTimeDropout;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind != LayerKind.Dropout || layer.Scaling != DropoutScalingKind.TestTime) continue;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Scaling"), layer.Name);
        }
    }
}
