using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0114 (pitfall 14): the learning rate of Adam, AdamW or RMSProp (normalised steps) outside [1e-5, 1e-2]; that of
/// Sgd, Momentum or Nesterov above 1. AdaGrad (KLN0115) and L-BFGS (line search) are not checked.
/// Non-positive rates are KLN0008 errors and are left to the generator.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LearningRateRangeAnalyzer : SpecRuleAnalyzer
{
    public const double AdamLow = 1e-5, AdamHigh = 1e-2, SgdHigh = 1;

    public override DiagnosticDescriptor Rule => Descriptors.LearningRateRange;

    protected override void Analyze(SpecRuleContext context)
    {
        OptimizerSpec? optimizer = context.Spec.Optimizer;
        if (optimizer is null || !(optimizer.LearningRate > 0) || double.IsInfinity(optimizer.LearningRate)) return;
        double lr = optimizer.LearningRate;
        string? range = null, why = null;
        if (optimizer.Kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.RMSProp && (lr < AdamLow || lr > AdamHigh))
        {
            range = "[1e-5, 1e-2]";
            why = lr > AdamHigh
                ? "its normalised steps are about α per weight, so this large a rate makes the loss jump or diverge (try 1e-3 or 5e-4)"
                : "its normalised steps are about α per weight, so this small a rate barely moves the weights (try 1e-3 or 5e-4)";
        }
        else if (optimizer.Kind is OptimizerKind.Sgd or OptimizerKind.Momentum or OptimizerKind.Nesterov && lr > SgdHigh)
        {
            range = "(0, 1]";
            why = "with normalised inputs a step of more than the whole gradient overshoots and the loss becomes NaN/Inf (try 0.1 to 0.01)";
        }
        if (range is null) return;
        context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Syntax.Optimizer, "LearningRate", 0),
            optimizer.Kind.ToString(), SpecQueries.Number(lr), range, why);
    }
}
