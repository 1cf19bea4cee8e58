using System;
using System.Linq;
using System.Text;
using System.Threading;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
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
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelSpecParser.ModelAttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
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

        context.RegisterSourceOutput(specs, static (spc, spec) =>
        {
            string source;
            try
            {
                source = ModelEmitter.Emit(Planner.Build(spec));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                spc.ReportDiagnostic(Diagnostic.Create(Descriptors.InternalError, Location.None, spec.ClassName, ex.GetType().Name + ": " + ex.Message));
                return;
            }
            spc.AddSource(spec.HintName, SourceText.From(source, Encoding.UTF8));
        });
    }

    /// <summary>[Model] on several partial declarations triggers once per declaration; only the first (by file, then position) generates.</summary>
    private static bool IsFirstModelDeclaration(INamedTypeSymbol type, SyntaxNode node)
    {
        SyntaxReference? first = type.GetAttributes()
            .Where(a => a.AttributeClass?.ToDisplayString() == ModelSpecParser.ModelAttributeName && a.ApplicationSyntaxReference is not null)
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
            var type = (INamedTypeSymbol)ctx.TargetSymbol;
            if (!IsFirstModelDeclaration(type, ctx.TargetNode))
                return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty); // the compiler reports the duplicate [Model] (CS0579)
            ParseResult result = ModelSpecParser.Parse(type, ct);
            DiagnosticInfo[] unknown = ctx.TargetNode is ClassDeclarationSyntax declaration
                ? UnknownNames.Find(ctx.SemanticModel, declaration, ct).ToArray()
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
