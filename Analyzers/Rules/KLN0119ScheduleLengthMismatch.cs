using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0119 (pitfall 19), on <c>Trainer.Fit</c> calls whose model's [Model] class the flow finds (an <c>IKilnModel</c> local
/// created with <c>new Net()</c> counts) and whose run length N is a constant: the <c>epochs</c> argument or the options'
/// <c>Epochs</c> (10, the default, when not set), the options followed through locals, <c>with</c> and helpers
/// (<see cref="FitCall"/>). The schedule is the options' own when they set one that is created with constant arguments
/// (CosineDecay, LinearDecay, StepDecay), else the model's declared one; an options schedule the flow cannot read is skipped: a [StepDecay] milestone ≥ N or
/// <c>Every</c> ≥ N never takes effect (epochs are 0-based), and a [CosineDecay]/[LinearDecay] period in epochs must equal N.
/// A warm-up (a [Warmup] or an options <c>new Warmup(steps, …)</c>/<c>Warmup.Linear(steps)</c>) is checked in steps when the
/// steps per epoch are known: the training set is a <c>Dataset</c> created in source (constructor, FromRows, FromMatrix)
/// whose labels array has a constant length n, and the batch size b is constant; the run then has at most
/// N·⌈n/b⌉ steps, and a longer warm-up never reaches the scheduled rate. Decay periods in steps are not checked.
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
        var code = new CodeContext(context.Compilation, types, context.CancellationToken);
        if (FitCall.Read(invocation, code, context.Compilation) is not { Spec: { } spec } fit) return;
        if (fit.Number("Epochs", DefaultEpochs) is not { } e || e <= 0) return;
        int epochs = (int)e;
        IEnumerable<ScheduleSpec> schedules;
        bool? custom = fit.IsSet("Schedule");
        if (custom is null) return;
        if (custom == true)
        {
            // A schedule written in the options: read it when it is created right there (or in a local) with constant arguments.
            FlowValue? created = fit.Object("Schedule");
            ScheduleSpec? read = created?.Operation switch
            {
                IObjectCreationOperation creation => Read(creation, code, created.Bindings),
                IInvocationOperation { TargetMethod: { Name: "Linear", ContainingType.Name: "Warmup" } } linear when linear.Arguments.Length == 1
                    && ValueFlow.Number(linear.Arguments[0].Value, code.Cache, code.CancellationToken, created.Bindings) is { } steps
                    => new ScheduleSpec(ScheduleKind.Warmup, Steps: (int)steps),
                _ => null,
            };
            if (read is null) return;
            schedules = new[] { read };
        }
        else schedules = spec.Schedules;
        long? stepsPerEpoch = StepsPerEpoch(fit, code);
        foreach (ScheduleSpec schedule in schedules)
        {
            string? problem = Problem(schedule, epochs, stepsPerEpoch);
            if (problem is null) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), "Trainer.Fit", fit.ModelType!.Name, epochs, problem));
            return;
        }
    }

    /// <summary>A runtime schedule created with constant arguments, as the spec would declare it; null for other schedules.</summary>
    private static ScheduleSpec? Read(IObjectCreationOperation creation, CodeContext code, Bindings? bindings)
    {
        double? Argument(string name)
        {
            IArgumentOperation? argument = creation.Arguments.FirstOrDefault(a => a.Parameter?.Name == name);
            return argument is null ? null : ValueFlow.Number(argument.Value, code.Cache, code.CancellationToken, bindings);
        }
        switch (creation.Type?.Name)
        {
            case "Warmup":
                return Argument("steps") is { } warmup ? new ScheduleSpec(ScheduleKind.Warmup, Steps: (int)warmup) : null;
            case "CosineDecay" or "LinearDecay":
                if (Argument("steps") is not { } steps || Argument("epochs") is not { } epochs) return null;
                return new ScheduleSpec(creation.Type.Name == "CosineDecay" ? ScheduleKind.CosineDecay : ScheduleKind.LinearDecay, Steps: (int)steps, Epochs: (int)epochs);
            case "StepDecay":
                if (Argument("every") is { } every) return new ScheduleSpec(ScheduleKind.StepDecay, Every: (int)every);
                IArgumentOperation? milestones = creation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "milestones");
                FlowValue? array = milestones is null ? null : ValueFlow.Single(milestones.Value, code.Cache, code.CancellationToken, bindings);
                if (array?.Operation is not IArrayCreationOperation { Initializer: { } initializer }) return null;
                var values = new List<int>();
                foreach (IOperation element in initializer.ElementValues)
                {
                    if (ValueFlow.Number(element, code.Cache, code.CancellationToken, array.Bindings) is not { } m) return null;
                    values.Add((int)m);
                }
                return new ScheduleSpec(ScheduleKind.StepDecay, Milestones: new EquatableArray<int>(values.ToArray()));
            default:
                return null;
        }
    }

    /// <summary>
    /// The most optimiser steps one epoch can take, ⌈n/b⌉, when the training set's size n and the batch size b are constants the
    /// flow finds; null otherwise.
    /// </summary>
    private static long? StepsPerEpoch(FitCall fit, CodeContext code)
    {
        if (fit.Number("BatchSize", FitCall.DefaultBatchSize) is not { } b || b < 1) return null;
        if (SampleCount(fit.Train, code) is not { } n || n < 1) return null;
        return (long)System.Math.Ceiling(n / System.Math.Floor(b));
    }

    /// <summary>The length of the labels array of a Dataset created in source (new Dataset, FromRows, FromMatrix), when constant.</summary>
    private static double? SampleCount(IOperation? train, CodeContext code)
    {
        FlowValue? dataset = ValueFlow.Single(train, code.Cache, code.CancellationToken);
        IArgumentOperation? labels = dataset?.Operation switch
        {
            IObjectCreationOperation creation when KilnTypes.Is(creation.Type, code.Types.Dataset) => creation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "labels"),
            IInvocationOperation { TargetMethod.Name: "FromRows" or "FromMatrix" } call when KilnTypes.Is(call.TargetMethod.ContainingType, code.Types.Dataset)
                => call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "labels"),
            _ => null,
        };
        if (labels is null) return null;
        FlowValue? array = ValueFlow.Single(labels.Value, code.Cache, code.CancellationToken, dataset!.Bindings);
        return array?.Operation is IArrayCreationOperation { DimensionSizes.Length: 1 } created
            ? ValueFlow.Number(created.DimensionSizes[0], code.Cache, code.CancellationToken, array.Bindings)
            : null;
    }

    private static string? Problem(ScheduleSpec schedule, int epochs, long? stepsPerEpoch)
    {
        switch (schedule.Kind)
        {
            case ScheduleKind.Warmup when stepsPerEpoch is { } perEpoch && schedule.Steps > epochs * perEpoch:
                return string.Format(CultureInfo.InvariantCulture,
                    "warms up over {0} steps, longer than the whole run ({1} epochs × at most {2} steps): the rate never reaches its scheduled value",
                    schedule.Steps, epochs, perEpoch);
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
