using System.Collections.Immutable;
using System.Globalization;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0120 (pitfall 20): <c>SearchSpace.Uniform(name, low, high)</c> with constant bounds 0 ≤ low, high &gt; 10·low (the range
/// spans more than a decade), for a learning-rate or weight-decay name (lr, learning_rate, eta, wd, weight_decay, l1, l2,
/// lambda, reg…) or any range spanning three decades or more (low &gt; 0, high ≥ 1000·low). β-like ranges are KLN0220's.
/// The fix (Uniform → LogUniform) is offered when low &gt; 0 (property "Method").
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LinearScaleSearchAnalyzer : KilnAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.LinearScaleSearch;

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
        if (SearchCalls.IsBetaRange(name, low, high, use)) return;
        if (!(low >= 0 && high > 10 * low)) return;
        if (!SearchCalls.IsScaleName(name) && !(low > 0 && high >= 1000 * low)) return;
        double topDecade = (high - high / 10) / (high - low);
        var properties = low > 0 ? ImmutableDictionary<string, string?>.Empty.Add("Method", "LogUniform") : ImmutableDictionary<string, string?>.Empty;
        context.ReportDiagnostic(Diagnostic.Create(Rule, Operations.CallLocation(invocation), properties,
            name, SpecQueries.Number(low), SpecQueries.Number(high), topDecade.ToString("P0", CultureInfo.InvariantCulture)));
    }
}
