using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Kiln.CodeFixes;

/// <summary>KLN0101: Sigmoid/Tanh in a hidden layer → ReLU (arguments such as Name are kept).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseReLUCodeFix)), Shared]
public sealed class UseReLUCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.SaturatingHiddenActivationId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Use ReLU", "Kiln.UseReLU", root =>
                AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is { } attribute
                    ? root.ReplaceNode(attribute, attribute.WithName(AttributeEditing.Rename(attribute.Name, "ReLU")))
                    : null);
        return Task.CompletedTask;
    }
}
