using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0213 (pitfall 13, inference before any training): <c>Predict</c>/<c>Evaluate</c>/<c>EvaluateTargets</c> on a model,
/// or <c>Trainer.Evaluate(model, …)</c>, where the model is a local created with <c>new</c> in the same method and every
/// other use of that local is also inference or harmless (property reads and writes, LayerOutput, ResetNoise,
/// InitializeParameters). Any other use — TrainStep, Trainer.Fit, TensorData (loading weights), passing it to a
/// method, storing, returning or reassigning it — means it may be trained or loaded, and nothing is reported.
/// Evaluating before training (the initial-loss check) is fine because training follows. Reported once, on the
/// first inference call.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InferenceWithoutTrainingAnalyzer : KilnAnalyzer
{
    private enum Use { Inference, Neutral, Other }

    public override DiagnosticDescriptor Rule => Descriptors.InferenceWithoutTraining;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        IMethodSymbol method = invocation.TargetMethod;
        IOperation? model;
        if (method.Name is "Predict" or "Evaluate" or "EvaluateTargets" && types.IsModelType(method.ContainingType)) model = invocation.Instance;
        else if (types.IsTrainerMethod(method, "Evaluate")) model = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "model")?.Value;
        else return;
        if (Operations.Unwrap(model) is not ILocalReferenceOperation reference) return;
        ILocalSymbol local = reference.Local;
        if (Operations.Unwrap(DataRoles.Origin(local, invocation.SemanticModel)) is not IObjectCreationOperation creation || !types.IsModelType(creation.Type)) return;

        IOperation root = Operations.Root(invocation);
        ILocalReferenceOperation? first = null;
        foreach (ILocalReferenceOperation use in Operations.References(root, local))
        {
            Use kind = Classify(use, types);
            if (kind == Use.Other) return;
            if (kind == Use.Inference && (first is null || use.Syntax.SpanStart < first.Syntax.SpanStart)) first = use;
        }
        if (first is null || !IsPartOf(first, invocation)) return;
        string display = method.ContainingType.Name == "Trainer" ? "Trainer." + method.Name : method.Name;
        context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display, local.Name));
    }

    private static bool IsPartOf(IOperation use, IInvocationOperation invocation)
    {
        for (IOperation? current = use; current is not null; current = current.Parent)
        {
            if (current == invocation) return true;
            if (current is IInvocationOperation) return false;
        }
        return false;
    }

    private static Use Classify(ILocalReferenceOperation use, KilnTypes types)
    {
        (IOperation? parent, IOperation child) = Operations.Outer(use);
        switch (parent)
        {
            case IInvocationOperation call when call.Instance == child:
                return call.TargetMethod.Name switch
                {
                    "Predict" or "Evaluate" or "EvaluateTargets" => Use.Inference,
                    "LayerOutput" or "ResetNoise" or "InitializeParameters" or "ToString" or "GetHashCode" or "GetType" => Use.Neutral,
                    _ => Use.Other,
                };
            case IArgumentOperation { Parent: IInvocationOperation call } argument:
                return types.IsTrainerMethod(call.TargetMethod, "Evaluate") && argument.Parameter?.Name == "model" ? Use.Inference : Use.Other;
            case IPropertyReferenceOperation property when property.Instance == child:
                return Use.Neutral;
            default:
                return Use.Other;
        }
    }
}
