using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0132 (pitfall 32): training data never shuffled.
/// <list type="bullet">
/// <item><c>Trainer.Fit</c> whose options set <c>Shuffle</c> to the constant false (followed through locals, <c>with</c> and
/// helpers); reported on the <c>Shuffle = false</c> when it is in the same file, else on the call.</item>
/// <item>A hand-written epoch loop: <c>TrainStep</c> inside two nested loops, on data sliced by a loop variable, in a method
/// that draws nothing at random (no call on a Random/KilnRandom, no Shuffle/Permutation call, no <c>Subset(indices)</c>).</item>
/// </list>
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnshuffledTrainingDataAnalyzer : KilnAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.UnshuffledTrainingData;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        RegisterInvocations(context, (c, invocation) =>
        {
            var code = new CodeContext(c.Compilation, types, c.CancellationToken);
            if (types.IsTrainerMethod(invocation.TargetMethod, "Fit"))
            {
                FitCall fit = FitCall.Read(invocation, code, c.Compilation)!;
                (ValueFlow.MemberState state, FlowValue? value) = fit.Setting("Shuffle");
                if (state != ValueFlow.MemberState.Set || value is null) return;
                FlowValue? origin = ValueFlow.Single(value.Operation, code.Cache, code.CancellationToken, value.Bindings);
                if (origin?.Operation.ConstantValue is not { HasValue: true, Value: false }) return;
                c.ReportDiagnostic(Diagnostic.Create(Rule, fit.Where("Shuffle"), "Trainer.Fit runs with Shuffle = false"));
            }
            else if (invocation.TargetMethod.Name == "TrainStep" && types.IsModelType(invocation.TargetMethod.ContainingType) && FixedOrderLoop(invocation))
                c.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), "This epoch loop steps through the data in storage order"));
        });
    }

    private static bool FixedOrderLoop(IInvocationOperation step)
    {
        ILoopOperation[] loops = step.Ancestors().OfType<ILoopOperation>().ToArray();
        if (loops.Length < 2) return false;
        var loopLocals = new System.Collections.Generic.HashSet<ILocalSymbol>(loops.SelectMany(l => l.Locals), SymbolEqualityComparer.Default);
        bool sliced = step.Arguments.Any(a => a.Value.Type?.SpecialType != SpecialType.System_Int32
            && a.Value.DescendantsAndSelf().OfType<ILocalReferenceOperation>().Any(r => loopLocals.Contains(r.Local)));
        if (!sliced) return false;
        foreach (IInvocationOperation call in Operations.Root(step).Descendants().OfType<IInvocationOperation>())
        {
            IMethodSymbol method = call.TargetMethod;
            if (method.Name.IndexOf("Shuffle", System.StringComparison.OrdinalIgnoreCase) >= 0 || method.Name.IndexOf("Permut", System.StringComparison.OrdinalIgnoreCase) >= 0) return false;
            if (method.ContainingType?.Name.IndexOf("Random", System.StringComparison.OrdinalIgnoreCase) >= 0) return false;
            if (call.Arguments.Any(a => a.Value.Type?.Name.IndexOf("Random", System.StringComparison.OrdinalIgnoreCase) >= 0)) return false;
            if (method.Name == "Subset" && call.Arguments.FirstOrDefault()?.Value.Type is not { SpecialType: SpecialType.System_Int32 }) return false;
        }
        return true;
    }
}

internal static class OperationAncestors
{
    public static System.Collections.Generic.IEnumerable<IOperation> Ancestors(this IOperation operation)
    {
        for (IOperation? current = operation.Parent; current is not null; current = current.Parent) yield return current;
    }
}
