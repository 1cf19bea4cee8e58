using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Kiln.CodeFixes;

/// <summary>KLN0103 (Softmax before SoftmaxCrossEntropy, Sigmoid before BinaryCrossEntropy) and KLN0104 (activation before the loss): remove the layer.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveLayerCodeFix)), Shared]
public sealed class RemoveLayerCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds =>
        ImmutableArray.Create(Descriptors.DoubleSquashingId, Descriptors.OutputActivationBeforeLossId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Remove the layer", "Kiln.RemoveLayer." + diagnostic.Id, root =>
                AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is { } attribute
                    ? AttributeEditing.RemoveAttribute(root, attribute)
                    : null);
        return Task.CompletedTask;
    }
}
