using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0106 (pitfall 6): Init.Zeros or Init.Constant on a hidden Dense layer (one with another Dense after it).
/// The output layer is exempt: its units already differ through their targets, and zero-initialising
/// the last layer is a known-good practice (Fixup).
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
            LayerSpec dense = spec.Layers[i];
            if (dense.Kind != LayerKind.Dense || dense.Init is not (InitKind.Zeros or InitKind.Constant) || !SpecQueries.HasDenseAfter(spec, i)) continue;
            string value = dense.Init == InitKind.Zeros || double.IsNaN(dense.InitScale) ? "0" : SpecQueries.Number(dense.InitScale);
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Init"), dense.Name, "the same value (" + value + ")");
        }
    }
}
