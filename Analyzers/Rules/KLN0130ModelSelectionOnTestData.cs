using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0130 (pitfall 30): model selection on the test split. Test data is decided from where it comes from
/// (<see cref="DataRoles"/>: <c>.Test</c> of <c>Split</c>/<c>LoadDirectory</c>, a test file; a <c>ValidationSplit</c> is
/// validation data and fine). Reported on
/// <list type="bullet">
/// <item><c>Trainer.Fit</c> with test data as its validation set and options that select on it: EarlyStopping on a validation
/// metric, a ReduceOnPlateau schedule (the options' or, when they set none, the model's [ReduceOnPlateau]), or a RunDirectory
/// (whose best.safetensors is the best epoch by the validation metric);</item>
/// <item>a hand-written loop that trains (TrainStep, Trainer.Fit, Lbfgs.Minimize in its body) and compares a score computed
/// on test data (Evaluate, EvaluateTargets, Trainer.Evaluate) to decide something (keep the best, stop).</item>
/// </list>
/// Passing test data as the validation set with nothing that selects on it only reports it, and is not flagged.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelSelectionOnTestDataAnalyzer : KilnAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.ModelSelectionOnTestData;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.Trainer is null) return;
        RegisterInvocations(context, (c, invocation) =>
        {
            var code = new CodeContext(c.Compilation, types, c.CancellationToken);
            if (types.IsTrainerMethod(invocation.TargetMethod, "Fit")) AnalyzeFit(c, invocation, code);
            else if (IsEvaluation(invocation, types, out IOperation? data)) AnalyzeLoop(c, invocation, data!, code);
        });
    }

    private void AnalyzeFit(OperationAnalysisContext context, IInvocationOperation invocation, CodeContext code)
    {
        FitCall fit = FitCall.Read(invocation, code, context.Compilation)!;
        if (fit.Validation is null || DataRoles.Classify(fit.Validation, code) != DataRole.Test) return;
        string? how = null;
        if (fit.IsSet("EarlyStopping") == true && fit.Object("EarlyStopping") is { } early
            && ValueFlow.Member(early.Operation, "Metric", code.Cache, code.CancellationToken, early.Bindings) is var (state, metric)
            && (state == ValueFlow.MemberState.Default || (state == ValueFlow.MemberState.Set && metric is not null && !Operations.Text(metric.Operation).EndsWith("TrainLoss", System.StringComparison.Ordinal))))
            how = "early stopping on its validation metric keeps the best epoch";
        else if (fit.IsSet("Schedule") is { } scheduled && (scheduled
                     ? fit.Object("Schedule")?.Operation.Type?.Name == "ReduceOnPlateau"
                     : fit.Spec?.Schedules.Any(s => s.Kind == ScheduleKind.ReduceOnPlateau) == true))
            how = "ReduceOnPlateau lowers the learning rate when its loss stops improving";
        else if (fit.IsSet("RunDirectory") == true)
            how = "the run directory's best.safetensors is the epoch that scores best on it";
        if (how is null) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), "Trainer.Fit", Operations.Text(fit.Validation), how));
    }

    /// <summary>A score computed on data: a model's Evaluate/EvaluateTargets, or Trainer.Evaluate.</summary>
    private static bool IsEvaluation(IInvocationOperation call, KilnTypes types, out IOperation? data)
    {
        data = null;
        IMethodSymbol method = call.TargetMethod;
        if (method.Name is "Evaluate" or "EvaluateTargets" && types.IsModelType(method.ContainingType)) data = call.Arguments.FirstOrDefault()?.Value;
        else if (types.IsTrainerMethod(method, "Evaluate")) data = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "data")?.Value;
        return data is not null;
    }

    private void AnalyzeLoop(OperationAnalysisContext context, IInvocationOperation evaluation, IOperation data, CodeContext code)
    {
        ILoopOperation? loop = null;
        for (IOperation? current = evaluation.Parent; current is not null && loop is null; current = current.Parent)
            if (current is ILoopOperation l && l.Body.Descendants().OfType<IInvocationOperation>().Any(c => TrainingOnHeldOutDataAnalyzer.TrainingData(c, code).Any())) loop = l;
        if (loop is null || !Decides(evaluation, loop)) return;
        if (DataRoles.Classify(data, code) != DataRole.Test) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, evaluation.Syntax.GetLocation(), "This training loop", Operations.Text(data),
            "its score is compared to choose the model or when to stop"));
    }

    /// <summary>The score (the call, or a local it is stored in) is an operand of a comparison in the loop.</summary>
    private static bool Decides(IInvocationOperation evaluation, ILoopOperation loop)
    {
        var holders = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        for (IOperation? current = evaluation.Parent; current is not null && current != loop; current = current.Parent)
        {
            if (current is IVariableDeclaratorOperation declarator) holders.Add(declarator.Symbol);
            if (current is ISimpleAssignmentOperation { Target: ILocalReferenceOperation target }) holders.Add(target.Local);
        }
        foreach (IBinaryOperation comparison in loop.Body.Descendants().OfType<IBinaryOperation>())
        {
            if (comparison.OperatorKind is not (BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual or BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual)) continue;
            foreach (IOperation operand in new[] { comparison.LeftOperand, comparison.RightOperand })
                if (operand.DescendantsAndSelf().Any(o => o == evaluation || (o is ILocalReferenceOperation r && holders.Contains(r.Local)))) return true;
        }
        return false;
    }
}
