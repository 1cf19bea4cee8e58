using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0320 (pitfall 20): <c>SearchSpace.Grid(k)</c> on a space with three or more dimensions. The dimensions are counted
/// along the fluent chain of the receiver (<c>new SearchSpace().LogUniform(…).Choice(…)…</c>), following a local to its
/// initializer when the local is never reassigned; a space that comes from elsewhere (parameter, field, method) is not
/// counted, and nothing is reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GridSearchAnalyzer : KilnAnalyzer
{
    public const int MaxGridDimensions = 2;

    public override DiagnosticDescriptor Rule => Descriptors.GridSearch;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.SearchSpace is null) return;
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        if (!SearchCalls.IsSearchSpaceMethod(invocation.TargetMethod, types, "Grid")) return;
        int? dimensions = CountDimensions(invocation.Instance, types, 0);
        if (dimensions is not { } count || count <= MaxGridDimensions) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, Operations.CallLocation(invocation), count));
    }

    private static int? CountDimensions(IOperation? space, KilnTypes types, int depth)
    {
        if (depth > 64) return null;
        switch (Operations.Unwrap(space))
        {
            case IObjectCreationOperation creation when SymbolEqualityComparer.Default.Equals(creation.Type, types.SearchSpace):
                return 0;
            case IInvocationOperation call when SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, types.SearchSpace) && SearchCalls.IsDimension(call.TargetMethod):
                return CountDimensions(call.Instance, types, depth + 1) is { } inner ? inner + 1 : null;
            case ILocalReferenceOperation local:
                IOperation root = Operations.Root(local);
                foreach (ILocalReferenceOperation use in Operations.References(root, local.Local))
                {
                    (IOperation? parent, IOperation child) = Operations.Outer(use);
                    if (parent is IAssignmentOperation assignment && assignment.Target == child) return null; // reassigned: unknown
                    if (parent is IArgumentOperation { Parameter.RefKind: not RefKind.None }) return null;
                }
                return CountDimensions(DataRoles.Origin(local.Local, local.SemanticModel), types, depth + 1);
            default:
                return null;
        }
    }
}
