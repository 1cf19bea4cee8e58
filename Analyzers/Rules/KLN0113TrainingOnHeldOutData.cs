using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0113 (pitfall 13), on calls of a model's <c>TrainStep</c>/<c>ComputeGradients</c> and of <c>Trainer.Fit</c>:
/// <list type="number">
/// <item>held-out data: a data argument (any non-int argument of TrainStep/ComputeGradients, the <c>train</c>
/// argument of Trainer.Fit) whose nearest telling name is a test/validation name (<see cref="DataRoles"/>);</item>
/// <item>evaluation method: TrainStep or Trainer.Fit (not ComputeGradients, which gradient checks use) inside a
/// method whose first word is evaluate/eval/validate/validation/test/testing/score/assess — but only on a model
/// that comes from outside the method (parameter, field, property, this): a method that creates a model, trains and
/// scores it is a hyper-parameter trial, not an evaluation. Methods with test-framework attributes are skipped.</item>
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
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        IMethodSymbol method = invocation.TargetMethod;
        bool step = method.Name is "TrainStep" or "ComputeGradients" && types.IsModelType(method.ContainingType);
        bool fit = !step && types.IsTrainerMethod(method, "Fit");
        if (!step && !fit) return;
        string display = fit ? "Trainer.Fit" : method.Name;
        string effect = method.Name == "ComputeGradients"
            ? "its loss and gradients describe the training-mode network, not the one Predict uses"
            : "updates the weights and BatchNorm's running statistics with this data";

        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            bool isData = step ? argument.Value.Type?.SpecialType != SpecialType.System_Int32 : argument.Parameter?.Name == "train";
            if (!isData || DataRoles.Classify(argument.Value) != DataRole.HeldOut) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display,
                $"on '{Operations.Text(argument.Value)}', which looks like validation/test data", effect));
            return;
        }

        if (method.Name == "ComputeGradients") return;
        IMethodSymbol? owner = Operations.EnclosingMethod(invocation, context.ContainingSymbol);
        if (owner is null || !IsEvaluationMethod(owner)) return;
        IOperation? model = step ? invocation.Instance : invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "model")?.Value;
        if (!ComesFromOutside(model)) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display,
            $"inside the evaluation method '{owner.Name}'", "updates the weights and BatchNorm's running statistics while evaluating"));
    }

    /// <summary>First word of the name is an evaluation word, and no test-framework attribute marks it as a test.</summary>
    public static bool IsEvaluationMethod(IMethodSymbol method)
    {
        var words = Words.Split(method.Name);
        if (words.Count == 0 || !EvaluationWords.Contains(words[0])) return false;
        foreach (AttributeData attribute in method.GetAttributes())
        {
            string name = attribute.AttributeClass?.Name ?? "";
            if (TestFrameworkWords.Any(w => name.IndexOf(w, System.StringComparison.Ordinal) >= 0)) return false;
        }
        return true;
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
