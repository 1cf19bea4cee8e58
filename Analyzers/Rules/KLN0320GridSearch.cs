using System;
using System.Threading;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0320 (pitfall 20): <c>SearchSpace.Grid(k)</c> on a space with three or more dimensions. The dimensions are counted
/// along the fluent chain of the receiver (<c>new SearchSpace().LogUniform(…).Choice(…)…</c>), following a local to its
/// initializer when the local is never reassigned, and into the returned values of methods of the same compilation
/// (<c>Space().Grid(3)</c> with <c>static SearchSpace Space() => new SearchSpace()…</c>; at most
/// <see cref="MaxHelperDepth"/> helpers deep, each method's count cached per compilation by
/// <see cref="FlowCache.MethodSummary{T}"/>; a method with several returns counts
/// the fewest dimensions any of them has). A space that comes from elsewhere (parameter, field, metadata method) is not
/// counted, and nothing is reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GridSearchAnalyzer : KilnAnalyzer
{
    public const int MaxGridDimensions = 2;

    /// <summary>How many helper methods deep the count follows a returned space.</summary>
    public const int MaxHelperDepth = 4;

    public override DiagnosticDescriptor Rule => Descriptors.GridSearch;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.SearchSpace is null) return;
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        if (!SearchCalls.IsSearchSpaceMethod(invocation.TargetMethod, types, "Grid")) return;
        var cache = FlowCache.For(context.Compilation);
        int? dimensions = CountDimensions(invocation.Instance, types, cache, context.CancellationToken, 0);
        if (dimensions is not { } count || count <= MaxGridDimensions) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, Operations.CallLocation(invocation), count));
    }

    /// <summary>The fewest dimensions of the spaces a method body returns; null when one of them is not counted.</summary>
    private static int? Returned(IOperation body, KilnTypes types, FlowCache cache, CancellationToken cancellationToken)
    {
        int? fewest = null;
        foreach (IReturnOperation ret in ValueFlow.Returns(body))
        {
            int? count = ret.ReturnedValue is null ? null : CountDimensions(ret.ReturnedValue, types, cache, cancellationToken, 0);
            if (count is not { } c) return null;
            fewest = fewest is { } f ? Math.Min(f, c) : c;
        }
        return fewest;
    }

    private static int? CountDimensions(IOperation? space, KilnTypes types, FlowCache cache, CancellationToken cancellationToken, int depth)
    {
        if (depth > 64) return null;
        switch (Operations.Unwrap(space))
        {
            case IObjectCreationOperation creation when SymbolEqualityComparer.Default.Equals(creation.Type, types.SearchSpace):
                return 0;
            case IInvocationOperation call when SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, types.SearchSpace) && SearchCalls.IsDimension(call.TargetMethod):
                return CountDimensions(call.Instance, types, cache, cancellationToken, depth + 1) is { } inner ? inner + 1 : null;
            case IInvocationOperation helper when SymbolEqualityComparer.Default.Equals(helper.Type, types.SearchSpace):
                return cache.MethodSummary<int?>(helper.TargetMethod, "SearchSpace dimensions", MaxHelperDepth, body => Returned(body, types, cache, cancellationToken), cancellationToken);
            case ILocalReferenceOperation local:
                IOperation root = Operations.Root(local);
                foreach (ILocalReferenceOperation use in Operations.References(root, local.Local))
                {
                    (IOperation? parent, IOperation child) = Operations.Outer(use);
                    if (parent is IAssignmentOperation assignment && assignment.Target == child) return null; // reassigned: unknown
                    if (parent is IArgumentOperation { Parameter.RefKind: not RefKind.None }) return null;
                }
                return CountDimensions(DataRoles.Origin(local.Local, local.SemanticModel), types, cache, cancellationToken, depth + 1);
            default:
                return null;
        }
    }
}
