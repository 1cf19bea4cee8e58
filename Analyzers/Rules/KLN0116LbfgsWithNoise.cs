using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0116 (pitfall 16): L-BFGS with a source of noise.
/// <list type="bullet">
/// <item>Spec: a model with the [Lbfgs] optimiser and a Dropout layer with a positive rate (reported on each such Dropout).</item>
/// <item>Mini-batches: <c>Trainer.Fit</c> or <c>TrainStep</c> on an [Lbfgs] model (the trainer steps through mini-batches;
/// the generated TrainStep of an L-BFGS model throws), and <c>Lbfgs.Minimize</c> inside a loop on data computed in the loop
/// (each call minimises another batch's loss).</item>
/// <item>Noise in the model: <c>Lbfgs.Minimize</c> on a model whose [Model] class (found by following the value) has dropout.</item>
/// </list>
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LbfgsWithNoiseAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.LbfgsWithNoise;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.Optimizer?.Kind != OptimizerKind.Lbfgs) return;
        for (int i = 0; i < spec.Layers.Count; i++)
            if (spec.Layers[i].Kind == LayerKind.Dropout && spec.Layers[i].Rate > 0)
                context.Report(Rule, context.Layer(i)?.GetLocation(), spec.Layers[i].Name, "adds noise to a model trained with L-BFGS", "dropout changes the loss between evaluations; remove the dropout (or use a first-order optimiser)");
    }

    protected override void RegisterCode(CompilationStartAnalysisContext context, KilnTypes types) =>
        RegisterInvocations(context, (c, invocation) =>
        {
            IMethodSymbol method = invocation.TargetMethod;
            var code = new CodeContext(c.Compilation, types, c.CancellationToken);
            bool fit = types.IsTrainerMethod(method, "Fit"), step = method.Name == "TrainStep" && types.IsModelType(method.ContainingType);
            bool minimize = method.Name == "Minimize" && KilnTypes.Is(method.ContainingType, types.Lbfgs);
            if (!fit && !step && !minimize) return;
            IOperation? model = step ? invocation.Instance : invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "model")?.Value;
            INamedTypeSymbol? type = FitCall.ModelClass(model, code);
            ModelSpec? spec = type is null ? null : ModelCache.Get(c.Compilation, type, c.CancellationToken).Spec;
            string display = fit ? "Trainer.Fit" : step ? "TrainStep" : "Lbfgs.Minimize";
            if (!minimize)
            {
                if (spec?.Optimizer?.Kind != OptimizerKind.Lbfgs) return;
                c.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display, "trains the [Lbfgs] model '" + type!.Name + "' on mini-batches",
                    "each step sees another batch, so the loss changes between evaluations; train it full-batch with Lbfgs.Minimize(model, data)"));
                return;
            }
            LayerSpec? dropout = spec?.Layers.FirstOrDefault(l => l.Kind == LayerKind.Dropout && l.Rate > 0);
            if (dropout is not null)
            {
                c.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display, $"minimises '{type!.Name}', whose '{dropout.Name}' adds noise",
                    "dropout changes the loss between evaluations; remove the dropout (or use a first-order optimiser)"));
                return;
            }
            IOperation? data = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "data")?.Value;
            if (data is not null && ComputedInLoop(invocation, data))
                c.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display, $"runs on '{Operations.Text(data)}', a new batch at every pass of the loop",
                    "mini-batch L-BFGS: each call minimises another batch's loss, so its curvature pairs and line search do not carry over; minimise the full-batch loss once"));
        });

    /// <summary>The data is computed inside a loop around the call: it uses the loop's variables or locals declared in its body.</summary>
    private static bool ComputedInLoop(IInvocationOperation call, IOperation data)
    {
        for (IOperation? current = call.Parent; current is not null; current = current.Parent)
        {
            if (current is not ILoopOperation loop) continue;
            var inside = new System.Collections.Generic.HashSet<ILocalSymbol>(loop.Locals, SymbolEqualityComparer.Default);
            foreach (IVariableDeclaratorOperation declarator in loop.Body.Descendants().OfType<IVariableDeclaratorOperation>()) inside.Add(declarator.Symbol);
            if (data.DescendantsAndSelf().OfType<ILocalReferenceOperation>().Any(r => inside.Contains(r.Local))) return true;
        }
        return false;
    }
}
