using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0222 (pitfall 22, first half): [Model] without <c>Normalize</c>. Any explicit value, including
/// <c>InputNormalization.None</c> ("my data arrive normalised"), is a declaration and silences it.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NoInputNormalizationAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.NoInputNormalization;

    protected override void Analyze(SpecRuleContext context)
    {
        if (context.Spec.Normalization != InputNormalizationKind.Unspecified) return;
        context.Report(Rule, context.Syntax.Model?.GetLocation(), context.Spec.ClassName);
    }
}
