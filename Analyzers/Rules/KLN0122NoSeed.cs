using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0122 (pitfall 22, second half): [Model] without Seed. The first half, no input normalisation
/// declared, is KLN0222.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NoSeedAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.NoSeed;

    protected override void Analyze(SpecRuleContext context)
    {
        if (context.Spec.SeedSpecified) return;
        context.Report(Rule, context.Syntax.Model?.GetLocation(), context.Spec.ClassName);
    }
}
