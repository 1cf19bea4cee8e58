using System;
using System.Collections.Immutable;
using System.Threading;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>
/// Base of every Kiln rule: one descriptor per analyzer, concurrent, generated code skipped, and nothing
/// registered in compilations that do not reference Kiln. Rules never throw into the compiler: an
/// unexpected exception becomes a visible KLN0100 diagnostic naming the rule (never AD0001, never silence),
/// while a rule that lacks the information it needs simply reports nothing.
/// </summary>
public abstract class KilnAnalyzer : DiagnosticAnalyzer
{
    private ImmutableArray<DiagnosticDescriptor> _supported;

    /// <summary>The rule this analyzer reports.</summary>
    public abstract DiagnosticDescriptor Rule { get; }

    public sealed override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics =>
        _supported.IsDefault ? (_supported = ImmutableArray.Create(Rule, Descriptors.AnalyzerFailed)) : _supported;

    public sealed override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            KilnTypes? types = KilnTypes.Resolve(start.Compilation);
            if (types is not null) Register(start, types);
        });
    }

    /// <summary>Registers the rule's actions for a compilation that references Kiln.</summary>
    protected abstract void Register(CompilationStartAnalysisContext context, KilnTypes types);

    /// <summary>Registers <paramref name="analyze"/> for every method call, guarded as every rule action is.</summary>
    protected void RegisterInvocations(CompilationStartAnalysisContext context, Action<OperationAnalysisContext, IInvocationOperation> analyze) =>
        context.RegisterOperationAction(c => Guard(c.ReportDiagnostic, c.Operation.Syntax.GetLocation(), c.CancellationToken,
            () => analyze(c, (IInvocationOperation)c.Operation)), OperationKind.Invocation);

    /// <summary>
    /// Runs <paramref name="body"/>; an exception other than cancellation is reported as KLN0100 at
    /// <paramref name="location"/> instead of escaping to the analyzer driver.
    /// </summary>
    protected void Guard(Action<Diagnostic> report, Location? location, CancellationToken cancellationToken, Action body)
    {
        try
        {
            body();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            report(Diagnostic.Create(Descriptors.AnalyzerFailed, location ?? Location.None, Rule.Id, ex.GetType().Name + ": " + ex.Message));
        }
    }
}
