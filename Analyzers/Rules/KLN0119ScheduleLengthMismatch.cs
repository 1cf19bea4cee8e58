using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0119 (pitfall 19), on <c>Trainer.Fit</c> calls whose model argument has a [Model] class as its static type and whose
/// run length N is a constant: the <c>epochs</c> argument, or <c>Epochs = N</c> in a <c>new TrainerOptions { … }</c>
/// written in the call (10, the default, when the options are omitted, null, or do not set Epochs). Options that set
/// their own <c>Schedule</c> are skipped. The model's declared schedule is then checked: a [StepDecay] milestone ≥ N or
/// <c>Every</c> ≥ N never takes effect (epochs are 0-based), and a [CosineDecay]/[LinearDecay] period in epochs must equal N.
/// Periods in steps are not checked (steps per epoch depend on the data).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScheduleLengthMismatchAnalyzer : KilnAnalyzer
{
    private const int DefaultEpochs = 10;

    public override DiagnosticDescriptor Rule => Descriptors.ScheduleLengthMismatch;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.Trainer is null || types.ModelAttribute is null) return;
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        if (!types.IsTrainerMethod(invocation.TargetMethod, "Fit")) return;
        IOperation? modelArgument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "model")?.Value;
        if (Operations.Unwrap(modelArgument)?.Type is not INamedTypeSymbol modelType || !types.HasModelAttribute(modelType)) return;
        if (Epochs(invocation) is not { } epochs || epochs <= 0) return;
        ModelSpec? spec = ModelCache.Get(context.Compilation, modelType, context.CancellationToken).Spec;
        if (spec is null) return;
        foreach (ScheduleSpec schedule in spec.Schedules)
        {
            string? problem = Problem(schedule, epochs);
            if (problem is null) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), "Trainer.Fit", modelType.Name, epochs, problem));
            return;
        }
    }

    /// <summary>The constant number of epochs of the call, or null when it is not known.</summary>
    private static int? Epochs(IInvocationOperation invocation)
    {
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (argument.Parameter?.Name == "epochs")
                return Operations.TryGetNumber(Operations.Unwrap(argument.Value), out double n) ? (int)n : null;
            if (argument.Parameter?.Name != "options") continue;
            if (argument.ArgumentKind == ArgumentKind.DefaultValue) return DefaultEpochs;
            IOperation? value = Operations.Unwrap(argument.Value);
            if (value is ILiteralOperation { ConstantValue: { HasValue: true, Value: null } }) return DefaultEpochs;
            if (value is not IObjectCreationOperation creation || creation.Arguments.Length > 0) return null;
            int? epochs = DefaultEpochs;
            foreach (IOperation initializer in creation.Initializer?.Initializers ?? Enumerable.Empty<IOperation>())
            {
                if (initializer is not ISimpleAssignmentOperation { Target: IPropertyReferenceOperation property } assignment) return null;
                if (property.Property.Name == "Schedule") return null;
                if (property.Property.Name == "Epochs")
                    epochs = Operations.TryGetNumber(Operations.Unwrap(assignment.Value), out double n) ? (int)n : null;
            }
            return epochs;
        }
        return null;
    }

    private static string? Problem(ScheduleSpec schedule, int epochs)
    {
        switch (schedule.Kind)
        {
            case ScheduleKind.StepDecay:
            {
                var late = new List<int>();
                foreach (int milestone in schedule.Milestones) if (milestone >= epochs) late.Add(milestone);
                if (late.Count > 0)
                    return $"StepDecay decays at epoch{(late.Count > 1 ? "s" : "")} {string.Join(", ", late)}, at or after the last epoch ({epochs - 1}, 0-based): {(late.Count > 1 ? "those decays never take" : "that decay never takes")} effect";
                if (schedule.Milestones.Count == 0 && schedule.Every >= epochs)
                    return $"StepDecay decays every {schedule.Every} epochs, so the rate never decays within the run";
                return null;
            }
            case ScheduleKind.CosineDecay or ScheduleKind.LinearDecay when schedule.Steps <= 0 && schedule.Epochs > 0 && schedule.Epochs != epochs:
            {
                string name = schedule.Kind == ScheduleKind.CosineDecay ? "CosineDecay" : "LinearDecay";
                string effect = schedule.Epochs > epochs
                    ? $"the run stops at {(double)epochs / schedule.Epochs:P0} of the decay, far from its end value"
                    : $"the rate sits at its floor for the last {epochs - schedule.Epochs} epochs";
                return string.Format(CultureInfo.InvariantCulture, "{0} has period T = {1} epochs (T ≠ the run's total): {2}", name, schedule.Epochs, effect);
            }
            default:
                return null;
        }
    }
}
