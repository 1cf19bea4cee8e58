using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0133 (pitfall 33, the code side of KLN0009): a model with a BatchNorm layer trained with batches of one sample —
/// <c>Trainer.Fit</c> with a batch size of 1 (its batchSize argument or TrainerOptions.BatchSize, followed through the
/// options flow), or <c>TrainStep(x, y, 1)</c>. The model's [Model] class is found by following the value.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BatchNormBatchOneTrainingAnalyzer : KilnAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.BatchNormBatchOneTraining;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.ModelAttribute is null) return;
        RegisterInvocations(context, (c, invocation) =>
        {
            var code = new CodeContext(c.Compilation, types, c.CancellationToken);
            IMethodSymbol method = invocation.TargetMethod;
            IOperation? model, batch;
            string display;
            if (types.IsTrainerMethod(method, "Fit"))
            {
                FitCall fit = FitCall.Read(invocation, code, c.Compilation)!;
                if (fit.Number("BatchSize", FitCall.DefaultBatchSize) != 1) return;
                model = fit.Model;
                display = "Trainer.Fit";
            }
            else if (method.Name == "TrainStep" && types.IsModelType(method.ContainingType))
            {
                batch = invocation.Arguments.LastOrDefault(a => a.Value.Type?.SpecialType == SpecialType.System_Int32)?.Value;
                if (ValueFlow.Number(batch, code.Cache, code.CancellationToken) != 1) return;
                model = invocation.Instance;
                display = "TrainStep";
            }
            else return;
            if (FitCall.ModelClass(model, code) is not { } type || ModelCache.Get(c.Compilation, type, c.CancellationToken).Spec is not { } spec) return;
            LayerSpec? norm = spec.Layers.FirstOrDefault(l => l.Kind == LayerKind.BatchNorm);
            if (norm is null || spec.MaxBatch <= 1) return; // MaxBatch = 1 is the generator's KLN0009
            c.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display, type.Name, norm.Name));
        });
    }
}
