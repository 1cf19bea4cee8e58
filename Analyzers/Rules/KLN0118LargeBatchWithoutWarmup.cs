using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0118 (pitfall 18): MaxBatch ≥ <see cref="LargeBatch"/> and a learning rate at or above the
/// batch-scaled reference base × MaxBatch/256 (base 0.1 for Sgd/Momentum/Nesterov, Goyal et al.; 1e-3 for Adam, AdamW
/// and RMSProp), and no [Warmup] schedule. MaxBatch stands for the batch size (the trainer's batch is at most MaxBatch).
/// Reported on the learning-rate argument.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LargeBatchWithoutWarmupAnalyzer : SpecRuleAnalyzer
{
    public const int LargeBatch = 1024;

    public override DiagnosticDescriptor Rule => Descriptors.LargeBatchWithoutWarmup;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        OptimizerSpec? optimizer = spec.Optimizer;
        if (optimizer is null || spec.MaxBatch < LargeBatch || !(optimizer.LearningRate > 0)) return;
        foreach (ScheduleSpec schedule in spec.Schedules)
            if (schedule.Kind == ScheduleKind.Warmup) return;
        double baseRate;
        switch (optimizer.Kind)
        {
            case OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.RMSProp: baseRate = 1e-3; break;
            case OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov: baseRate = 0.1; break;
            default: return;
        }
        double reference = baseRate * spec.MaxBatch / 256.0;
        if (optimizer.LearningRate < reference * (1 - 1e-9)) return;
        context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Syntax.Optimizer, "LearningRate", 0),
            spec.ClassName, spec.MaxBatch, SpecQueries.Number(optimizer.LearningRate), SpecQueries.Short(reference), SpecQueries.Number(baseRate));
    }
}
