using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0121 (pitfall 21): a call of <c>Fit</c>, <c>FitTransform</c> or <c>PartialFit</c> on Kiln's <c>Standardizer</c> or on any
/// type whose last name word says preprocessing (…Standardizer, …Scaler, …Normalizer, …Whitener, …Pca, …Encoder,
/// …Imputer, …Vectorizer, …Preprocessor), with an argument whose nearest telling name is a test/validation name
/// (<see cref="DataRoles"/>). Trainer.Fit is never preprocessing; of a model's methods only <c>FitInputNormalization</c>
/// (the statistics of <c>[Model(Normalize = …)]</c>) is.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PreprocessingLeakageAnalyzer : KilnAnalyzer
{
    private static readonly string[] PreprocessingWords =
        { "standardizer", "standardiser", "scaler", "normalizer", "normaliser", "whitener", "pca", "encoder", "imputer", "vectorizer", "preprocessor" };

    public override DiagnosticDescriptor Rule => Descriptors.PreprocessingLeakage;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, types));
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, KilnTypes types)
    {
        IMethodSymbol method = invocation.TargetMethod;
        INamedTypeSymbol type = method.ContainingType;
        if (types.IsModelMethod(method, "FitInputNormalization")) { ReportHeldOutArgument(context, invocation, type, method); return; }
        if (method.Name is not ("Fit" or "FitTransform" or "PartialFit")) return;
        bool standardizer = types.Standardizer is not null && SymbolEqualityComparer.Default.Equals(type, types.Standardizer);
        if (!standardizer)
        {
            if (types.IsModelType(type) || SymbolEqualityComparer.Default.Equals(type, types.Trainer)) return;
            var words = Words.Split(type.Name);
            if (words.Count == 0 || !PreprocessingWords.Contains(words[words.Count - 1])) return;
        }
        ReportHeldOutArgument(context, invocation, type, method);
    }

    private void ReportHeldOutArgument(OperationAnalysisContext context, IInvocationOperation invocation, INamedTypeSymbol type, IMethodSymbol method)
    {
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (argument.Value.Type?.SpecialType is SpecialType.System_Int32 or SpecialType.System_Boolean or SpecialType.System_Double) continue;
            if (DataRoles.Classify(argument.Value) != DataRole.HeldOut) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), type.Name + "." + method.Name, "'" + Operations.Text(argument.Value) + "'"));
            return;
        }
    }
}
