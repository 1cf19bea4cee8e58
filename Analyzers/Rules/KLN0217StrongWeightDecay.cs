using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0217 (pitfall 17): a penalty ([L2], [L1], [ElasticNet], [WeightDecay]) with λ &gt; 1e-2. AdamW's decoupled
/// WeightDecay is not checked: it is multiplied by the learning rate and conventionally set between 0.01 and 0.1.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StrongWeightDecayAnalyzer : SpecRuleAnalyzer
{
    public const double MaxLambda = 1e-2;

    public override DiagnosticDescriptor Rule => Descriptors.StrongWeightDecay;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.Penalties.Count == 0) return;
        for (int i = 0; i < spec.Penalties.Count; i++)
        {
            PenaltySpec penalty = spec.Penalties[i];
            if (!(penalty.Lambda > MaxLambda) || double.IsInfinity(penalty.Lambda)) continue;
            var attribute = i < context.Syntax.Penalties.Count ? context.Syntax.Penalties[i] : null;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(attribute, "lambda", 0), penalty.Kind.ToString(), SpecQueries.Number(penalty.Lambda));
        }
    }
}
