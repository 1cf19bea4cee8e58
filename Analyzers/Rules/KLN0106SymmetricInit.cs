using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0106 (pitfall 6): Init.Zeros or Init.Constant on a hidden weighted layer (a Dense layer or convolution with another
/// weighted layer after it): every unit (filter) computes the same output. Exempt: the output layer (its units already
/// differ through their targets), and Init.Zeros on the last weighted layer of a residual branch, whose output is added
/// to the shortcut, so the block starts as the identity (docs/techniques.md#initialisation; Fixup).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SymmetricInitAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.SymmetricInit;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (!SpecQueries.IsWeighted(layer) || layer.Init is not (InitKind.Zeros or InitKind.Constant) || !SpecQueries.HasWeightedAfter(spec, i)) continue;
            if (layer.Init == InitKind.Zeros && SpecQueries.EndsResidualBranch(spec, i)) continue;
            string value = layer.Init == InitKind.Zeros || double.IsNaN(layer.InitScale) ? "0" : SpecQueries.Number(layer.InitScale);
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Init"), layer.Name, "the same value (" + value + ")");
        }
    }
}
