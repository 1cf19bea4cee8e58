using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0114 (pitfall 14): the learning rate of Adam, AdamW or RMSProp (normalised steps) outside [1e-5, 1e-2]; that of
/// Sgd, Momentum or Nesterov above 1. Checked on the optimiser attribute and on every <c>Trainer.Fit</c> whose
/// <c>TrainerOptions.LearningRate</c> overrides it (the options followed through locals, <c>with</c> and helpers).
/// AdaGrad (KLN0115) and L-BFGS (line search) are not checked. Non-positive rates are KLN0008 errors and are left to the generator.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LearningRateRangeAnalyzer : SpecRuleAnalyzer
{
    public const double AdamLow = 1e-5, AdamHigh = 1e-2, SgdHigh = 1;

    public override DiagnosticDescriptor Rule => Descriptors.LearningRateRange;

    protected override void Analyze(SpecRuleContext context)
    {
        OptimizerSpec? optimizer = context.Spec.Optimizer;
        if (optimizer is null || Problem(optimizer.Kind, optimizer.LearningRate) is not { } problem) return;
        context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Syntax.Optimizer, "LearningRate", 0),
            optimizer.Kind.ToString(), SpecQueries.Number(optimizer.LearningRate), problem.Range, problem.Why);
    }

    protected override void RegisterCode(CompilationStartAnalysisContext context, KilnTypes types) =>
        RegisterFitCalls(context, types, (c, fit, code) =>
        {
            if (fit.Spec!.Optimizer is not { } optimizer || fit.Setting("LearningRate").State != ValueFlow.MemberState.Set) return;
            if (fit.LearningRate() is not { } rate || rate == optimizer.LearningRate || Problem(optimizer.Kind, rate) is not { } problem) return;
            c.ReportDiagnostic(Diagnostic.Create(Rule, fit.Call.Syntax.GetLocation(),
                optimizer.Kind + " (TrainerOptions.LearningRate for '" + fit.ModelType!.Name + "')", SpecQueries.Number(rate), problem.Range, problem.Why));
        });

    private static (string Range, string Why)? Problem(OptimizerKind kind, double lr)
    {
        if (!(lr > 0) || double.IsInfinity(lr)) return null;
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.RMSProp && (lr < AdamLow || lr > AdamHigh))
            return ("[1e-5, 1e-2]", lr > AdamHigh
                ? "its normalised steps are about α per weight, so this large a rate makes the loss jump or diverge (try 1e-3 or 5e-4)"
                : "its normalised steps are about α per weight, so this small a rate barely moves the weights (try 1e-3 or 5e-4)");
        if (kind is OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov && lr > SgdHigh)
            return ("(0, 1]", "with normalised inputs a step of more than the whole gradient overshoots and the loss becomes NaN/Inf (try 0.1 to 0.01)");
        return null;
    }
}
