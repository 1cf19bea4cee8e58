using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0115 (pitfall 15): the model's optimiser is [AdaGrad]. Every Kiln model trains for epochs of mini-batches, and the
/// run length is not known at compile time, so any AdaGrad use is reported. Fixes: AdaGrad → Adam, AdaGrad → RMSProp.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AdaGradLongRunAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.AdaGradLongRun;

    protected override void Analyze(SpecRuleContext context)
    {
        if (context.Spec.Optimizer?.Kind != OptimizerKind.AdaGrad) return;
        context.Report(Rule, context.Syntax.Optimizer?.GetLocation(), context.Spec.ClassName);
    }
}
