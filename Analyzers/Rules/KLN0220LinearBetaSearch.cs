using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0220 (pitfall 20): <c>SearchSpace.Uniform(name, low, high)</c> with constant bounds in [0, 1) whose value is a β: the
/// key's reads feed a momentum/β argument or option (<see cref="SearchKeyUses"/>) and high &gt; 0.9. A key that only feeds
/// other settings never fires; where no use is seen, the name breaks the tie (momentum, beta, rho, ema… and high &gt; 0.9,
/// or 0.9 ≤ low and high ≥ 0.99). The fix is OneMinusLogUniform with the same arguments (property "Method").
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
        FlowCache cache = FlowCache.For(context.Compilation);
        if (!SearchCalls.TryReadRange(invocation, out string name, out double low, out double high, cache, context.CancellationToken)) return;
        KeyUse use = SearchKeyUses.Of(name, cache, context.CancellationToken);
        if (!SearchCalls.IsBetaRange(name, low, high, use)) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, Operations.CallLocation(invocation),
            ImmutableDictionary<string, string?>.Empty.Add("Method", "OneMinusLogUniform"),
            name, SpecQueries.Number(low), SpecQueries.Number(high), SpecQueries.Short(1 / (1 - low)), SpecQueries.Short(1 / (1 - high))));
    }
}
