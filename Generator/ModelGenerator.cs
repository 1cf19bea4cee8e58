using System;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Generator;

/// <summary>
/// The Kiln source generator: [Model] classes → parse (ModelSpec) → plan → one &lt;Model&gt;.g.cs each.
/// Specs and diagnostics travel as separate equatable values, so moving code around (which changes
/// locations) re-reports diagnostics without re-emitting the model.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Builds the pipeline: parse each [Model] type, report its diagnostics, emit the valid ones under unique hint names.</summary>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelSpecParser.ModelAttributeName,
                // Records and structs too, so that they get a diagnostic instead of silence (DeclarationChecks).
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => SafeParse(ctx, ct))
            .WithTrackingName(TrackingNames.Parse);

        IncrementalValuesProvider<ModelSpec> specs = parsed
            .Where(static r => r.Spec is not null)
            .Select(static (r, _) => r.Spec!)
            .WithTrackingName(TrackingNames.Specs);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = parsed
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (DiagnosticInfo info in list) spc.ReportDiagnostic(info.ToDiagnostic());
        });

        // Hint names must be unique, also ignoring case (Net and NET), so they are assigned over all models at once;
        // each model's output then depends only on its own spec and name, and stays cached when another model changes.
        IncrementalValueProvider<EquatableArray<HintNames.Entry>> names = specs.Collect()
            .Select(static (all, _) => HintNames.Assign(all));
        IncrementalValuesProvider<ModelOutput> outputs = specs.Combine(names)
            .Select(static (pair, _) => new ModelOutput(pair.Left, HintNames.Lookup(pair.Right, pair.Left)))
            .WithTrackingName(TrackingNames.Outputs);

        context.RegisterSourceOutput(outputs, static (spc, output) =>
        {
            // Whatever goes wrong for one model becomes a diagnostic on that model; the other models still generate.
            try
            {
                string source = GeneratedSources.Source(output.Spec); // emitted in the parse step already (declaration checks)
                spc.AddSource(output.HintName, SourceText.From(source, Encoding.UTF8));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Descriptors.InternalError, Location.None, HintNames.FullName(output.Spec), ex.GetType().Name + ": " + ex.Message));
            }
        });
    }

    /// <summary>A model and the unique hint name of its generated file.</summary>
    private sealed record ModelOutput(ModelSpec Spec, string HintName);

    /// <summary>[Model] on several partial declarations triggers once per declaration; only the first (by file, then position) generates.</summary>
    private static bool IsFirstModelDeclaration(INamedTypeSymbol type, SyntaxNode node)
    {
        SyntaxReference? first = type.GetAttributes()
            .Where(a => ModelSpecParser.IsModelAttribute(a.AttributeClass) && a.ApplicationSyntaxReference is not null)
            .Select(a => a.ApplicationSyntaxReference!)
            .OrderBy(r => r.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(r => r.Span.Start)
            .FirstOrDefault();
        return first is null || (first.SyntaxTree == node.SyntaxTree && node.Span.Contains(first.Span));
    }

    /// <summary>Parsing never throws into the compiler: a failure becomes a KLN0000 diagnostic.</summary>
    private static ParseResult SafeParse(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
    {
        try
        {
            if (ctx.TargetSymbol is not INamedTypeSymbol type || !IsFirstModelDeclaration(type, ctx.TargetNode))
                return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty); // the compiler reports the duplicate [Model] (CS0579)
            if (DeclarationChecks.IsIncomplete(type, ct))
                return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty); // half-typed: the compiler reports the missing name
            ParseResult result = DeclarationChecks.Check(type, ctx.SemanticModel.Compilation, ModelSpecParser.Parse(type, ct), ct);
            DiagnosticInfo[] unknown = ctx.TargetNode is ClassDeclarationSyntax declaration
                ? UnknownNames.Find(ctx.SemanticModel, type, declaration, ct).ToArray()
                : Array.Empty<DiagnosticInfo>();
            return unknown.Length == 0
                ? result
                : result with { Diagnostics = new EquatableArray<DiagnosticInfo>(result.Diagnostics.Concat(unknown).ToArray()) };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var info = DiagnosticInfo.Create(Descriptors.InternalError, LocationInfo.From(ctx.TargetNode.GetLocation()),
                ctx.TargetSymbol.Name, ex.GetType().Name + ": " + ex.Message);
            return new ParseResult(null, new EquatableArray<DiagnosticInfo>(new[] { info }));
        }
    }
}
