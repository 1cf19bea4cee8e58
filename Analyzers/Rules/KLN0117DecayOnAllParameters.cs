using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KLN0117 (pitfall 17): a penalty ([L2], [L1], [ElasticNet], [WeightDecay]) with <c>ApplyTo = PenaltyTarget.All</c> and λ &gt; 0.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DecayOnAllParametersAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.DecayOnAllParameters;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.Penalties.Count == 0) return;
        for (int i = 0; i < spec.Penalties.Count; i++)
        {
            PenaltySpec penalty = spec.Penalties[i];
            if (!penalty.AllParameters || !(penalty.Lambda > 0)) continue;
            var attribute = i < context.Syntax.Penalties.Count ? context.Syntax.Penalties[i] : null;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(attribute, "ApplyTo"), penalty.Kind.ToString());
        }
    }
}
