using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0121 (pitfall 21): preprocessing statistics learnt from held-out data. A preprocessing fit is <c>Fit</c>,
/// <c>FitTransform</c> or <c>PartialFit</c> on Kiln's <c>Standardizer</c>/<c>Preprocessor</c> types or on any type whose last
/// name word says preprocessing (…Standardizer, …Scaler, …Normalizer, …Whitener, …Pca, …Encoder, …Imputer, …Vectorizer,
/// …Preprocessor), or a model's <c>FitInputNormalization</c>. Trainer.Fit is never preprocessing. Reported when
/// <list type="number">
/// <item>the fitted data is validation or test data (<see cref="DataRoles"/>: where it comes from, names only as a tie-breaker);</item>
/// <item>the fitted data set is split in the same method (<c>Split</c>/<c>ValidationSplit</c> on the same expression, before
/// or after the fit): the statistics include the part that is held out;</item>
/// <item>a source method whose parameter reaches a preprocessing fit (<see cref="ParameterSinks"/>) is called with validation or test data.</item>
/// </list>
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PreprocessingLeakageAnalyzer : KilnAnalyzer
{
    private static readonly string[] PreprocessingWords =
        { "standardizer", "standardiser", "scaler", "normalizer", "normaliser", "whitener", "pca", "encoder", "imputer", "vectorizer", "preprocessor", "preprocessing" };

    public override DiagnosticDescriptor Rule => Descriptors.PreprocessingLeakage;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        RegisterInvocations(context, (c, invocation) => Analyze(c, invocation, new CodeContext(c.Compilation, types, c.CancellationToken)));
    }

    /// <summary>True for a preprocessing fit (see the class summary).</summary>
    public static bool IsPreprocessingFit(IMethodSymbol method, KilnTypes types)
    {
        if (types.IsModelMethod(method, "FitInputNormalization")) return true;
        if (method.Name is not ("Fit" or "FitTransform" or "PartialFit")) return false;
        INamedTypeSymbol type = method.ContainingType;
        if (types.IsModelType(type) || KilnTypes.Is(type, types.Trainer)) return false;
        if (type.ContainingNamespace?.ToDisplayString() is "Kiln.Data" or "Kiln.Preprocessing") return true;
        for (INamedTypeSymbol? t = type; t is not null; t = t.BaseType)
        {
            var words = Words.Split(t.Name);
            if (words.Count > 0 && PreprocessingWords.Contains(words[words.Count - 1])) return true;
        }
        return false;
    }

    /// <summary>The data arguments of a preprocessing fit (the sinks of <see cref="SinkKind.PreprocessingFit"/>).</summary>
    public static IEnumerable<IOperation> FittedData(IOperation operation, CodeContext context)
    {
        if (operation is not IInvocationOperation call || !IsPreprocessingFit(call.TargetMethod, context.Types)) yield break;
        foreach (IArgumentOperation argument in call.Arguments)
            if (DataRoles.IsDataType(argument.Value.Type, context.Types)) yield return argument.Value;
    }

    private void Analyze(OperationAnalysisContext context, IInvocationOperation invocation, CodeContext code)
    {
        IMethodSymbol method = invocation.TargetMethod;
        string display = method.ContainingType.Name + "." + method.Name;
        if (!IsPreprocessingFit(method, code.Types))
        {
            AnalyzeHelperCall(context, invocation, code);
            return;
        }
        foreach (IOperation data in FittedData(invocation, code))
        {
            DataRole role = DataRoles.Classify(data, code);
            if (role.IsHeldOut())
            {
                context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display,
                    $"'{Operations.Text(data)}', which is {TrainingOnHeldOutDataAnalyzer.Describe(role)}"));
                return;
            }
            if (role != DataRole.Train && SplitLater(data, invocation, code) is { } split)
            {
                context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), display,
                    $"'{Operations.Text(data)}', the whole data set that '{Operations.Text(split, 40)}' splits into training and held-out parts"));
                return;
            }
        }
    }

    private void AnalyzeHelperCall(OperationAnalysisContext context, IInvocationOperation invocation, CodeContext code)
    {
        if (code.Types.IsModelType(invocation.TargetMethod.ContainingType)) return;
        IArgumentOperation[] data = invocation.Arguments.Where(a => DataRoles.IsDataType(a.Value.Type, code.Types)).ToArray();
        if (data.Length == 0) return;
        var heldOut = data.Select(a => (Argument: a, Role: DataRoles.Classify(a.Value, code))).Where(x => x.Role.IsHeldOut()).ToArray();
        if (heldOut.Length == 0) return;
        var reaching = new HashSet<IArgumentOperation>(ParameterSinks.Reaching(invocation, SinkKind.PreprocessingFit, FittedData, code));
        foreach ((IArgumentOperation argument, DataRole role) in heldOut)
        {
            if (!reaching.Contains(argument)) continue;
            context.ReportDiagnostic(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), invocation.TargetMethod.Name,
                $"'{Operations.Text(argument.Value)}', which is {TrainingOnHeldOutDataAnalyzer.Describe(role)} (its parameter '{argument.Parameter!.Name}' is fitted inside it)"));
            return;
        }
    }

    /// <summary>A Split/ValidationSplit call in the same body on the data set <paramref name="data"/> comes from, if any.</summary>
    private static IInvocationOperation? SplitLater(IOperation data, IInvocationOperation fit, CodeContext code)
    {
        IOperation? dataset = DatasetOf(data, code, 0);
        if (dataset is null) return null;
        foreach (IInvocationOperation call in Operations.Root(fit).Descendants().OfType<IInvocationOperation>())
        {
            if (call.TargetMethod.Name is not ("Split" or "ValidationSplit") || !KilnTypes.Is(call.TargetMethod.ContainingType, code.Types.Dataset)) continue;
            if (call.Instance is { } instance && SameData(DatasetOf(instance, code, 0), dataset)) return call;
        }
        return null;
    }

    /// <summary>The Dataset expression the data comes from: <c>d</c> for <c>d.Features</c>, <c>d.Features.AsSpan()</c>, or a local holding either.</summary>
    private static IOperation? DatasetOf(IOperation? operation, CodeContext code, int depth)
    {
        operation = Operations.Unwrap(operation);
        if (operation is null || depth > 6) return null;
        if (KilnTypes.Is(operation.Type, code.Types.Dataset)) return operation is ILocalReferenceOperation local && Follow(local, code) is { } origin && KilnTypes.Is(origin.Type, code.Types.Dataset) && origin is not IInvocationOperation ? DatasetOf(origin, code, depth + 1) : operation;
        return operation switch
        {
            IPropertyReferenceOperation { Property.Name: "Features" or "Labels" } property => DatasetOf(property.Instance, code, depth + 1),
            IInvocationOperation { TargetMethod.Name: "AsSpan" or "AsMemory" or "Slice" or "ToArray" } call =>
                DatasetOf(call.Instance ?? (call.Arguments.Length > 0 ? call.Arguments[0].Value : null), code, depth + 1),
            ILocalReferenceOperation local => DatasetOf(Follow(local, code), code, depth + 1),
            _ => null,
        };
    }

    private static IOperation? Follow(ILocalReferenceOperation local, CodeContext code)
    {
        IReadOnlyList<FlowCache.Definition> definitions = FlowCache.LocalDefinitions(Operations.Root(local), local.Local);
        return definitions.Count == 1 && definitions[0].Position == -1 ? Operations.Unwrap(definitions[0].Value) : null;
    }

    /// <summary>The same local, parameter, field or property chain.</summary>
    private static bool SameData(IOperation? a, IOperation? b)
    {
        a = Operations.Unwrap(a);
        b = Operations.Unwrap(b);
        return (a, b) switch
        {
            (ILocalReferenceOperation x, ILocalReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Local, y.Local),
            (IParameterReferenceOperation x, IParameterReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Parameter, y.Parameter),
            (IFieldReferenceOperation x, IFieldReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Field, y.Field) && (x.Instance is null || SameData(x.Instance, y.Instance)),
            (IPropertyReferenceOperation x, IPropertyReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Property, y.Property) && (x.Instance is null || SameData(x.Instance, y.Instance)),
            (IInstanceReferenceOperation, IInstanceReferenceOperation) => true,
            _ => false,
        };
    }
}
