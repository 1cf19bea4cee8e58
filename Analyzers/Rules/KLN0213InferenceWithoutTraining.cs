using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0213 (pitfall 13, inference before any training): <c>Predict</c>/<c>Evaluate</c>/<c>EvaluateTargets</c> on a model,
/// or <c>Trainer.Evaluate(model, …)</c>, where the model is a local created with <c>new</c> in the same method — directly or
/// copied through other locals (<c>Net m = new(); IKilnModel any = m;</c>), the concrete model type found at the
/// <c>new</c> — and every other use of those locals is also inference or harmless (property reads and writes, LayerOutput, ResetNoise,
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
        IOperation root = Operations.Root(invocation);
        HashSet<ILocalSymbol>? aliases = Aliases(root, local, types);
        if (aliases is null) return;

        ILocalReferenceOperation? first = null;
        foreach (ILocalReferenceOperation use in root.DescendantsAndSelf().OfType<ILocalReferenceOperation>())
        {
            if (!aliases.Contains(use.Local)) continue;
            Use kind = Classify(use, types, aliases);
            if (kind == Use.Other) return;
            if (kind == Use.Inference && (first is null || use.Syntax.SpanStart < first.Syntax.SpanStart)) first = use;
        }
        if (first is null || !IsPartOf(first, invocation)) return;
        string display = method.ContainingType.Name == "Trainer" ? "Trainer." + method.Name : method.Name;
        context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display, local.Name));
    }

    /// <summary>
    /// The locals that hold the model: <paramref name="local"/> and the locals it was copied from (<c>IKilnModel any = m</c>,
    /// <c>var again = (Net)any</c>), followed through their single definitions (<see cref="FlowCache.LocalDefinitions"/>, at most
    /// <see cref="ValueFlow.MaxDepth"/> steps) back to a <c>new</c> of a model type. Null when the chain ends anywhere else, or a
    /// local on it is written more than once.
    /// </summary>
    private static HashSet<ILocalSymbol>? Aliases(IOperation root, ILocalSymbol local, KilnTypes types)
    {
        var aliases = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        ILocalSymbol current = local;
        for (int step = 0; step <= ValueFlow.MaxDepth && aliases.Add(current); step++)
        {
            IReadOnlyList<FlowCache.Definition> definitions = FlowCache.LocalDefinitions(root, current);
            if (definitions.Count != 1 || definitions[0].Position != -1) return null;
            switch (Operations.Unwrap(definitions[0].Value))
            {
                case ILocalReferenceOperation copied:
                    current = copied.Local;
                    continue;
                case IObjectCreationOperation creation when types.IsModelType(creation.Type):
                    return aliases;
                default:
                    return null;
            }
        }
        return null;
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

    private static Use Classify(ILocalReferenceOperation use, KilnTypes types, HashSet<ILocalSymbol> aliases)
    {
        (IOperation? parent, IOperation child) = Operations.Outer(use);
        switch (parent)
        {
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } when aliases.Contains(declarator.Symbol):
                return Use.Neutral; // copied into another local that holds the model
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment
                when aliases.Contains(target.Local) && (assignment.Value == child || target == use):
                return Use.Neutral; // the single definition of a local that holds the model

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
