using System;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0118 (pitfall 18): a learning rate that is high for the batch size, with no warm-up. The rate a batch of B samples
/// tolerates from the first step is taken as the square-root-scaled reference base·√(B/256) (base 0.1 for
/// Sgd/Momentum/Nesterov, 1e-3 for Adam/AdamW/RMSProp): rates above it lean towards the linear scaling rule
/// base·B/256, which Goyal et al. could only use with a warm-up. Only batches of at least <see cref="LargeBatch"/>.
/// <list type="bullet">
/// <item>On <c>Trainer.Fit</c> (a warning): the batch of the call (its batchSize or TrainerOptions.BatchSize, default 256),
/// the options' or the model's learning rate, and no warm-up — no [Warmup] on the model when the options set no schedule,
/// and a schedule in the options that is not a <c>Warmup</c> (an unknown schedule is given the benefit of the doubt).</item>
/// <item>On the optimiser attribute (info, as MaxBatch only bounds the batch): MaxBatch as the batch, same reference.</item>
/// </list>
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LargeBatchWithoutWarmupAnalyzer : SpecRuleAnalyzer
{
    public const int LargeBatch = 512;

    public override DiagnosticDescriptor Rule => Descriptors.LargeBatchWithoutWarmup;

    /// <summary>The rate above which a batch of <paramref name="batch"/> needs a warm-up, or null for optimisers the rule does not judge.</summary>
    public static double? Reference(OptimizerKind kind, int batch, out double baseRate)
    {
        baseRate = kind switch
        {
            OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.RMSProp => 1e-3,
            OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov => 0.1,
            _ => 0,
        };
        return baseRate > 0 ? baseRate * Math.Sqrt(batch / 256.0) : null;
    }

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        OptimizerSpec? optimizer = spec.Optimizer;
        if (optimizer is null || spec.MaxBatch < LargeBatch || !(optimizer.LearningRate > 0) || HasWarmup(spec)) return;
        if (Reference(optimizer.Kind, spec.MaxBatch, out double baseRate) is not { } reference || optimizer.LearningRate <= reference * (1 + 1e-9)) return;
        context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Syntax.Optimizer, "LearningRate", 0), DiagnosticSeverity.Info,
            "Model '" + spec.ClassName + "' trains batches of up to", spec.MaxBatch, SpecQueries.Number(optimizer.LearningRate), SpecQueries.Short(reference), SpecQueries.Number(baseRate));
    }

    protected override void RegisterCode(CompilationStartAnalysisContext context, KilnTypes types) =>
        RegisterFitCalls(context, types, (c, fit, code) =>
        {
            ModelSpec spec = fit.Spec!;
            if (spec.Optimizer is not { } optimizer) return;
            if (fit.Number("BatchSize", FitCall.DefaultBatchSize) is not { } b || b < LargeBatch) return;
            int batch = (int)Math.Min(b, spec.MaxBatch);
            if (batch < LargeBatch || fit.LearningRate() is not { } rate) return;
            if (Reference(optimizer.Kind, batch, out double baseRate) is not { } reference || rate <= reference * (1 + 1e-9)) return;
            FlowValue? schedule = fit.Object("Schedule");
            bool? scheduleSet = fit.IsSet("Schedule");
            if (scheduleSet is null) return;
            if (scheduleSet == true ? schedule is null || IsWarmup(schedule.Operation) : HasWarmup(spec)) return;
            c.ReportDiagnostic(Diagnostic.Create(Rule, fit.Call.Syntax.GetLocation(),
                "Trainer.Fit of '" + fit.ModelType!.Name + "' trains batches of", batch, SpecQueries.Number(rate), SpecQueries.Short(reference), SpecQueries.Number(baseRate)));
        });

    private static bool HasWarmup(ModelSpec spec)
    {
        foreach (ScheduleSpec schedule in spec.Schedules)
            if (schedule.Kind == ScheduleKind.Warmup) return true;
        return false;
    }

    /// <summary>A schedule created as a Warmup (new Warmup(…), Warmup.Linear(…)), or one the flow cannot see into.</summary>
    private static bool IsWarmup(IOperation schedule) => schedule switch
    {
        IObjectCreationOperation creation => creation.Type?.Name == "Warmup",
        IInvocationOperation call => call.TargetMethod.ContainingType?.Name == "Warmup" || call.Type?.Name == "Warmup" || call.Type?.Name == "LearningRateSchedule",
        _ => true,
    };
}
