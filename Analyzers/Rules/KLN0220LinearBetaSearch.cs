using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0220 (pitfall 20): <c>SearchSpace.Uniform(name, low, high)</c> with constant bounds in [0, 1) where the name says
/// momentum/β (momentum, beta, beta1, beta2, rho, ema) and high &gt; 0.9, or, whatever the name, 0.9 ≤ low and
/// high ≥ 0.99. The fix is OneMinusLogUniform with the same arguments (property "Method").
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LinearBetaSearchAnalyzer : KilnAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.LinearBetaSearch;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.SearchSpace is null) return;
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        if (!SearchCalls.IsSearchSpaceMethod(invocation.TargetMethod, types, "Uniform")) return;
        if (!SearchCalls.TryReadRange(invocation, out string name, out double low, out double high, FlowCache.For(context.Compilation), context.CancellationToken)) return;
        if (!SearchCalls.IsBetaRange(name, low, high)) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, Operations.CallLocation(invocation),
            ImmutableDictionary<string, string?>.Empty.Add("Method", "OneMinusLogUniform"),
            name, SpecQueries.Number(low), SpecQueries.Number(high), SpecQueries.Short(1 / (1 - low)), SpecQueries.Short(1 / (1 - high))));
    }
}
