using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Analyzers;

/// <summary>
/// A rule that reads a model's spec: the shared parser (<see cref="ModelSpecParser.ParseDetailed"/>) runs
/// once per [Model] class and compilation, and the rule inspects the best-effort <see cref="ModelSpec"/>.
/// </summary>
public abstract class SpecRuleAnalyzer : KilnAnalyzer
{
    protected sealed override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        if (types.ModelAttribute is null) return;
        RegisterCode(context, types);
        context.RegisterSymbolAction(symbolContext =>
        {
            if (symbolContext.Symbol is not INamedTypeSymbol { TypeKind: TypeKind.Class } type || !types.HasModelAttribute(type)) return;
            Location? where = type.Locations.Length > 0 ? type.Locations[0] : null;
            Guard(symbolContext.ReportDiagnostic, where, symbolContext.CancellationToken, () =>
            {
                ParsedModel parsed = ModelCache.Get(symbolContext.Compilation, type, symbolContext.CancellationToken);
                if (parsed.Spec is null) return;
                Analyze(new SpecRuleContext(parsed, parsed.Spec, symbolContext));
            });
        }, SymbolKind.NamedType);
    }

    /// <summary>Registers the code side of a rule that also reads the calls that train a model (Trainer.Fit): nothing by default.</summary>
#pragma warning disable RS1012 // the default registers nothing; overrides register operation actions
    protected virtual void RegisterCode(CompilationStartAnalysisContext context, KilnTypes types)
    {
    }
#pragma warning restore RS1012

    /// <summary>Registers <paramref name="analyze"/> for every Trainer.Fit call whose model's [Model] class the flow finds.</summary>
    protected void RegisterFitCalls(CompilationStartAnalysisContext context, KilnTypes types, System.Action<OperationAnalysisContext, FitCall, CodeContext> analyze)
    {
        if (types.Trainer is null) return;
        RegisterInvocations(context, (c, invocation) =>
        {
            if (!types.IsTrainerMethod(invocation.TargetMethod, "Fit")) return;
            var code = new CodeContext(c.Compilation, types, c.CancellationToken);
            if (FitCall.Read(invocation, code, c.Compilation) is { Spec: not null } fit) analyze(c, fit, code);
        });
    }

    /// <summary>Inspects one model. Report through <see cref="SpecRuleContext.Report"/>.</summary>
    protected abstract void Analyze(SpecRuleContext context);
}

/// <summary>What a spec rule sees of one model, and where it reports.</summary>
public sealed class SpecRuleContext
{
    private readonly SymbolAnalysisContext _context;

    internal SpecRuleContext(ParsedModel parsed, ModelSpec spec, SymbolAnalysisContext context)
    {
        Parsed = parsed;
        Spec = spec;
        _context = context;
    }

    public ParsedModel Parsed { get; }

    /// <summary>The best-effort spec (also when the generator reports spec errors for it).</summary>
    public ModelSpec Spec { get; }

    public ModelSyntax Syntax => Parsed.Syntax;

    /// <summary>True when the compilation's source initialises this model with LSUV (<see cref="LsuvUses"/>).</summary>
    public bool UsesLsuv() => _context.Symbol is INamedTypeSymbol type && LsuvUses.Initialises(_context.Compilation, type, _context.CancellationToken);

    /// <summary>The attribute of layer <paramref name="index"/>.</summary>
    public AttributeSyntax? Layer(int index) => Parsed.Syntax.Layer(index);

    /// <summary>
    /// Reports <paramref name="descriptor"/> at <paramref name="location"/> unless the location is unknown or
    /// overlaps a spec-validity error of the same model (the generator already flags that attribute or argument).
    /// </summary>
    public void Report(DiagnosticDescriptor descriptor, Location? location, ImmutableDictionary<string, string?>? properties, params object?[] arguments)
    {
        if (location is null || !location.IsInSource || Overlaps(location)) return;
        _context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, arguments));
    }

    /// <summary>Reports with a severity other than the rule's default (a rule whose weight depends on what it found, KLN0115 and KLN0118).</summary>
    public void Report(DiagnosticDescriptor descriptor, Location? location, DiagnosticSeverity severity, params object?[] arguments)
    {
        if (location is null || !location.IsInSource || Overlaps(location)) return;
        _context.ReportDiagnostic(Diagnostic.Create(descriptor, location, severity, null, null, arguments));
    }

    private bool Overlaps(Location location)
    {
        foreach (DiagnosticInfo error in Parsed.Result.Diagnostics)
        {
            if (error.Location is not { } at || at.FilePath != location.SourceTree!.FilePath) continue;
            if (at.Span.OverlapsWith(location.SourceSpan) || at.Span == location.SourceSpan || (at.Span.IsEmpty && location.SourceSpan.Contains(at.Span.Start))) return true;
        }
        return false;
    }

    /// <summary>Reports without properties.</summary>
    public void Report(DiagnosticDescriptor descriptor, Location? location, params object?[] arguments) => Report(descriptor, location, null, arguments);
}
