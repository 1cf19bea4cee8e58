using System.Collections.Generic;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0115 (pitfall 15): AdaGrad, whose steps shrink as squared gradients accumulate, is a problem for long runs. A run is
/// long when it takes at least <see cref="LongRunSteps"/> steps — a declared schedule whose period spans that many steps, or
/// at least <see cref="LongRunEpochs"/> epochs (an epoch takes at least one step, usually hundreds) — or when a
/// <c>Trainer.Fit</c> of the model runs that many epochs, or <c>epochs × ⌈samples/batch⌉</c> steps when the sample count is a
/// constant. The [AdaGrad] attribute is reported as a warning when its own schedule says the run is long and as info
/// otherwise (the length is unknown); a long <c>Trainer.Fit</c> of an AdaGrad model is a warning at the call.
/// Fixes (on the attribute): AdaGrad → Adam, AdaGrad → RMSProp.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AdaGradLongRunAnalyzer : SpecRuleAnalyzer
{
    public const int LongRunSteps = 10_000, LongRunEpochs = 100;

    public override DiagnosticDescriptor Rule => Descriptors.AdaGradLongRun;

    protected override void Analyze(SpecRuleContext context)
    {
        if (context.Spec.Optimizer?.Kind != OptimizerKind.AdaGrad) return;
        string? length = ScheduleLength(context.Spec.Schedules);
        context.Report(Rule, context.Syntax.Optimizer?.GetLocation(), length is null ? DiagnosticSeverity.Info : DiagnosticSeverity.Warning,
            context.Spec.ClassName, length ?? "if the run is long (the length is not known here)");
    }

    protected override void RegisterCode(CompilationStartAnalysisContext context, KilnTypes types) =>
        RegisterFitCalls(context, types, (c, fit, code) =>
        {
            if (fit.Spec!.Optimizer?.Kind != OptimizerKind.AdaGrad || fit.Number("Epochs", FitCall.DefaultEpochs) is not { } epochs) return;
            string? length = null;
            if (epochs >= LongRunEpochs) length = $"over {epochs} epochs";
            else if (fit.Number("BatchSize", FitCall.DefaultBatchSize) is { } batch && batch > 0 && SampleCount(fit, code) is { } samples
                && epochs * System.Math.Ceiling(samples / batch) >= LongRunSteps)
                length = $"over {epochs} epochs of {System.Math.Ceiling(samples / batch)} steps";
            if (length is null) return;
            c.ReportDiagnostic(Diagnostic.Create(Rule, fit.Call.Syntax.GetLocation(), fit.ModelType!.Name, length));
        });

    /// <summary>The run length a declared schedule implies when it is long, as words; null otherwise.</summary>
    private static string? ScheduleLength(IEnumerable<ScheduleSpec> schedules)
    {
        foreach (ScheduleSpec schedule in schedules)
        {
            if (schedule.Steps >= LongRunSteps) return $"over the {schedule.Steps} steps its {schedule.Kind} schedule spans";
            if (schedule.Epochs >= LongRunEpochs) return $"over the {schedule.Epochs} epochs its {schedule.Kind} schedule spans";
            foreach (int milestone in schedule.Milestones)
                if (milestone >= LongRunEpochs) return $"past epoch {milestone}, where its {schedule.Kind} schedule decays";
        }
        return null;
    }

    /// <summary>The constant sample count of the training set (<c>Subset(start, count)</c> or a data set built from constant-size arrays).</summary>
    private static double? SampleCount(FitCall fit, CodeContext code)
    {
        FlowValue? origin = ValueFlow.Single(fit.Train, code.Cache, code.CancellationToken);
        if (origin?.Operation is Microsoft.CodeAnalysis.Operations.IInvocationOperation { TargetMethod.Name: "Subset" } subset && subset.Arguments.Length >= 2
            && subset.Arguments[1].Parameter?.Name == "count")
            return ValueFlow.Number(subset.Arguments[1].Value, code.Cache, code.CancellationToken, origin.Bindings);
        return null;
    }
}
