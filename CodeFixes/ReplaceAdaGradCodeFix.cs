using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Kiln.CodeFixes;

/// <summary>KLN0115: AdaGrad → Adam (first action) or RMSProp. The arguments (learning rate, Epsilon) carry over: both accept them.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReplaceAdaGradCodeFix)), Shared]
public sealed class ReplaceAdaGradCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.AdaGradLongRunId);

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? document = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            // The report on a Trainer.Fit call (a long AdaGrad run) has no attribute under it: the fix belongs to the attribute's report.
            if (document is null || AttributeEditing.FindAttribute(document, diagnostic.Location.SourceSpan) is null) continue;
            foreach (string optimizer in new[] { "Adam", "RMSProp" })
                Register(context, diagnostic, "Use " + optimizer, "Kiln.ReplaceAdaGrad." + optimizer, root =>
                    AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is { } attribute
                        ? root.ReplaceNode(attribute, attribute.WithName(AttributeEditing.Rename(attribute.Name, optimizer)))
                        : null);
        }
    }
}
