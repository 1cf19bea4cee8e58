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

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            foreach (string optimizer in new[] { "Adam", "RMSProp" })
                Register(context, diagnostic, "Use " + optimizer, "Kiln.ReplaceAdaGrad." + optimizer, root =>
                    AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is { } attribute
                        ? root.ReplaceNode(attribute, attribute.WithName(AttributeEditing.Rename(attribute.Name, optimizer)))
                        : null);
        return Task.CompletedTask;
    }
}
