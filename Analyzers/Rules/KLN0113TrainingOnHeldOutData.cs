using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0113 (pitfall 13): training on held-out data, decided by where the data comes from (<see cref="DataRoles"/>):
/// <list type="number">
/// <item>a training-mode call — a model's <c>TrainStep</c>/<c>ComputeGradients</c> (every non-int argument),
/// <c>Trainer.Fit</c> (its <c>train</c> argument), <c>Lbfgs.Minimize</c> (its data) — on validation or test data;</item>
/// <item>a call of a source method whose parameter reaches such a call inside it (directly or through further helpers,
/// <see cref="ParameterSinks"/>) with validation or test data: reported at the call that passes the data;</item>
/// <item>training inside an evaluation: TrainStep or Trainer.Fit on a model that comes from outside the method (parameter,
/// field, property, this) inside a method that also evaluates that model (Predict, Evaluate, Trainer.Evaluate). The data
/// decide: the training call's data are training data by their source — no finding; the method scores the very data it
/// trains on (both calls' data come from the same parameter, local or field) — a finding, whatever the method is called;
/// it trains on other data than it scores — no finding. Only when the sources are not seen does the name break the tie (first word evaluate/eval/validate/validation/test/testing/score/
/// assess). Test-framework methods are skipped.</item>
/// </list>
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TrainingOnHeldOutDataAnalyzer : KilnAnalyzer
{
    private static readonly string[] EvaluationWords = { "evaluate", "evaluation", "eval", "validate", "validation", "test", "testing", "score", "assess" };
    private static readonly string[] TestFrameworkWords = { "Fact", "Theory", "Test", "Benchmark" };

    public override DiagnosticDescriptor Rule => Descriptors.TrainingOnHeldOutData;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, new CodeContext(c.Compilation, types, c.CancellationToken)));
    }

    /// <summary>The data arguments of a training-mode call (the sinks of <see cref="SinkKind.TrainingData"/>).</summary>
    public static IEnumerable<IOperation> TrainingData(IOperation operation, CodeContext context)
    {
        if (operation is not IInvocationOperation call) yield break;
        IMethodSymbol method = call.TargetMethod;
        KilnTypes types = context.Types;
        if (method.Name is "TrainStep" or "ComputeGradients" && types.IsModelType(method.ContainingType))
        {
            foreach (IArgumentOperation argument in call.Arguments)
                if (argument.Value.Type?.SpecialType != SpecialType.System_Int32) yield return argument.Value;
        }
        else if (types.IsTrainerMethod(method, "Fit") || (method.Name == "Minimize" && KilnTypes.Is(method.ContainingType, types.Lbfgs)))
        {
            foreach (IArgumentOperation argument in call.Arguments)
                if (argument.Parameter?.Name is "train" or "data") yield return argument.Value;
        }
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, CodeContext code)
    {
        IMethodSymbol method = invocation.TargetMethod;
        KilnTypes types = code.Types;
        bool step = method.Name is "TrainStep" or "ComputeGradients" && types.IsModelType(method.ContainingType);
        bool fit = !step && types.IsTrainerMethod(method, "Fit");
        bool lbfgs = !step && !fit && method.Name == "Minimize" && KilnTypes.Is(method.ContainingType, types.Lbfgs);
        if (!step && !fit && !lbfgs)
        {
            AnalyzeHelperCall(context, invocation, code);
            return;
        }
        string display = fit ? "Trainer.Fit" : lbfgs ? "Lbfgs.Minimize" : method.Name;
        string effect = method.Name == "ComputeGradients"
            ? "its loss and gradients describe the training-mode network, not the one Predict uses"
            : "updates the weights and BatchNorm's running statistics with this data";

        foreach (IOperation data in TrainingData(invocation, code))
        {
            DataRole role = DataRoles.Classify(data, code);
            if (!role.IsHeldOut()) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display,
                $"on '{Operations.Text(data)}', which is {Describe(role)}", effect));
            return;
        }

        if (method.Name == "ComputeGradients" || lbfgs) return;
        IMethodSymbol? owner = Operations.EnclosingMethod(invocation, context.ContainingSymbol);
        if (owner is null || IsTestFrameworkMethod(owner)) return;
        IOperation? model = step ? invocation.Instance : invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "model")?.Value;
        if (!ComesFromOutside(model)) return;
        if (DataRoles.Symbol(model!) is not { } target) return;
        List<IOperation> evaluated = DataRoles.EvaluatedData(Operations.Root(invocation), types, target);
        if (evaluated.Count == 0) return;
        var trained = TrainingData(invocation, code).ToList();
        if (trained.Any(d => DataRoles.Classify(d, code) is DataRole.Train or DataRole.Mixed)) return;
        string where;
        bool? shared = SharesSource(trained, evaluated, code);
        if (shared == true) where = $"on the data that '{owner.Name}' then scores the model on";
        else if (shared is null && IsEvaluationMethod(owner)) where = $"inside the evaluation method '{owner.Name}'";
        else return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display,
            where, "updates the weights and BatchNorm's running statistics while evaluating"));
    }

    /// <summary>A call of a source method that passes held-out data to a parameter that reaches a training-mode call inside it.</summary>
    private void AnalyzeHelperCall(OperationAnalysisContext context, IInvocationOperation invocation, CodeContext code)
    {
        if (code.Types.IsModelType(invocation.TargetMethod.ContainingType)) return;
        if (!invocation.Arguments.Any(a => DataRoles.IsDataType(a.Value.Type, code.Types))) return;
        var heldOut = new List<(IArgumentOperation Argument, DataRole Role)>();
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (!DataRoles.IsDataType(argument.Value.Type, code.Types)) continue;
            DataRole role = DataRoles.Classify(argument.Value, code);
            if (role.IsHeldOut()) heldOut.Add((argument, role));
        }
        if (heldOut.Count == 0) return;
        var reaching = new HashSet<IArgumentOperation>(ParameterSinks.Reaching(invocation, SinkKind.TrainingData, TrainingData, code));
        foreach ((IArgumentOperation argument, DataRole role) in heldOut)
        {
            if (!reaching.Contains(argument)) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), invocation.TargetMethod.Name,
                $"on '{Operations.Text(argument.Value)}', which is {Describe(role)} (its parameter '{argument.Parameter!.Name}' reaches TrainStep/Trainer.Fit inside it)",
                "updates the weights and BatchNorm's running statistics with this data"));
            return;
        }
    }

    /// <summary>How a message names a role.</summary>
    public static string Describe(DataRole role) => role == DataRole.Test ? "test data" : "validation data";

    /// <summary>First word of the name is an evaluation word (the tie-breaker), and no test-framework attribute marks it as a test.</summary>
    public static bool IsEvaluationMethod(IMethodSymbol method)
    {
        var words = Words.Split(method.Name);
        return words.Count > 0 && EvaluationWords.Contains(words[0]) && !IsTestFrameworkMethod(method);
    }

    private static bool IsTestFrameworkMethod(IMethodSymbol method) => method.GetAttributes().Any(attribute =>
        TestFrameworkWords.Any(w => (attribute.AttributeClass?.Name ?? "").IndexOf(w, System.StringComparison.Ordinal) >= 0));

    /// <summary>
    /// True when some training data and some evaluated data derive from the same parameter, local or field; false when both
    /// sides have sources and none is shared (different data); null when a side's source is not seen.
    /// </summary>
    private static bool? SharesSource(IEnumerable<IOperation> trained, IEnumerable<IOperation> evaluated, CodeContext code)
    {
        var sources = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (IOperation data in trained) DataRoles.Sources(data, code, sources);
        var other = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (IOperation data in evaluated) DataRoles.Sources(data, code, other);
        if (sources.Overlaps(other)) return true;
        return sources.Count > 0 && other.Count > 0 ? false : null;
    }

    /// <summary>The model is a parameter, field, property or this (or a local copied from one): it exists before the method runs.</summary>
    private static bool ComesFromOutside(IOperation? model)
    {
        model = Operations.Unwrap(model);
        if (model is ILocalReferenceOperation local)
            model = Operations.Unwrap(DataRoles.Origin(local.Local, model.SemanticModel));
        return model is IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation or IInstanceReferenceOperation;
    }
}
