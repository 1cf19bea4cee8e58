using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0131 (pitfall 31): training-time noise applied to validation or test data (<see cref="DataRoles"/>).
/// <list type="bullet">
/// <item>An augmentation (<c>IBatchAugmentation.Apply</c>) on held-out inputs.</item>
/// <item>A call of a source method whose parameter's data reach an augmentation or an unconditional random mask inside it
/// (<see cref="ParameterSinks"/>), with held-out data: a random mask is an element zeroed by a uniform draw compared with a
/// probability, as KLN0212 recognises it, that no bool flag (a training switch) guards.</item>
/// </list>
/// Kiln's TestTimeAugmentation (deterministic, averaged views) is not an augmentation in this sense.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TrainingNoiseAtEvaluationAnalyzer : KilnAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.TrainingNoiseAtEvaluation;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, new CodeContext(c.Compilation, types, c.CancellationToken)));
    }

    /// <summary>The sinks of <see cref="SinkKind.TrainingNoise"/>: an augmentation's inputs, the array an unguarded random mask zeroes.</summary>
    public static IEnumerable<IOperation> NoisedData(IOperation operation, CodeContext context)
    {
        if (operation is IInvocationOperation call && IsAugmentation(call, context.Types, out IOperation? inputs)) yield return inputs!;
        if (operation is IConditionalOperation conditional && RandomMaskTarget(conditional) is { } target) yield return target;
    }

    private static bool IsAugmentation(IInvocationOperation call, KilnTypes types, out IOperation? inputs)
    {
        inputs = null;
        if (call.TargetMethod.Name != "Apply" || !types.IsAugmentation(call.TargetMethod.ContainingType)) return false;
        inputs = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "inputs")?.Value ?? call.Arguments.FirstOrDefault()?.Value;
        return inputs is not null;
    }

    /// <summary>The array or span whose elements an unguarded Bernoulli draw zeroes (<c>if (rng.NextDouble() &lt; p) x[i] = 0;</c>, <c>x[i] = draw ? x[i] : 0</c>).</summary>
    private static IOperation? RandomMaskTarget(IConditionalOperation conditional)
    {
        if (!UnscaledDropoutCodeAnalyzer.TryBernoulli(conditional.Condition, out _)) return null;
        IOperation? target = null;
        if (UnscaledDropoutCodeAnalyzer.ZeroAssignment(conditional.WhenTrue) is { } a) target = a.Target;
        else if (UnscaledDropoutCodeAnalyzer.ZeroAssignment(conditional.WhenFalse) is { } b) target = b.Target;
        else if (Operations.Outer(conditional).Parent is ISimpleAssignmentOperation assignment
                 && (Operations.IsConstant(conditional.WhenFalse, 0) || Operations.IsConstant(conditional.WhenTrue, 0))) target = assignment.Target;
        if (Operations.Unwrap(target) is not IArrayElementReferenceOperation element) return null;
        for (IOperation? current = conditional.Parent; current is not null; current = current.Parent)
            if (current is IConditionalOperation guard && guard.Condition.DescendantsAndSelf().Any(o => o.Type?.SpecialType == SpecialType.System_Boolean
                    && o is ILocalReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation)) return null;
        return element.ArrayReference;
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, CodeContext code)
    {
        if (IsAugmentation(invocation, code.Types, out IOperation? inputs))
        {
            DataRole role = DataRoles.Classify(inputs, code);
            if (role.IsHeldOut())
                context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), invocation.TargetMethod.ContainingType.Name + ".Apply",
                    "an augmentation", Operations.Text(inputs!), TrainingOnHeldOutDataAnalyzer.Describe(role)));
            return;
        }
        if (code.Types.IsModelType(invocation.TargetMethod.ContainingType)) return;
        if (!invocation.Arguments.Any(a => DataRoles.IsDataType(a.Value.Type, code.Types))) return;
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (!DataRoles.IsDataType(argument.Value.Type, code.Types)) continue;
            DataRole role = DataRoles.Classify(argument.Value, code);
            if (!role.IsHeldOut()) continue;
            if (!ParameterSinks.Reaching(invocation, SinkKind.TrainingNoise, NoisedData, code).Contains(argument)) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), invocation.TargetMethod.Name,
                "a random augmentation or dropout mask (through its parameter '" + argument.Parameter!.Name + "')", Operations.Text(argument.Value), TrainingOnHeldOutDataAnalyzer.Describe(role)));
            return;
        }
    }
}
