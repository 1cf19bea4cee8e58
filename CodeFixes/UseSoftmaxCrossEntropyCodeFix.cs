using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>
/// KLN0125: a Softmax output trained with MeanSquaredError → remove the Softmax layer and replace the loss by
/// SoftmaxCrossEntropy (which fuses the softmax, takes the same float targets and makes Predict return the same
/// probabilities). The loss keeps its qualification and "Attribute" suffix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseSoftmaxCrossEntropyCodeFix)), Shared]
public sealed class UseSoftmaxCrossEntropyCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.SoftmaxWithMeanSquaredErrorId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Use SoftmaxCrossEntropy (softmax fused)", "Kiln.UseSoftmaxCrossEntropy",
                (document, root, cancellationToken) => FixAsync(document, root, diagnostic, cancellationToken));
        return Task.CompletedTask;
    }

    private static async Task<SyntaxNode?> FixAsync(Document document, SyntaxNode root, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        if (AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is not { } softmax) return null;
        if (await AttributeEditing.ParseModelAsync(document, softmax, cancellationToken).ConfigureAwait(false) is not { } parsed) return null;
        if (parsed.Model.Syntax.Loss is not { } loss || loss.SyntaxTree != softmax.SyntaxTree) return null;
        SyntaxNode tracked = root.TrackNodes(softmax, loss);
        AttributeSyntax currentLoss = tracked.GetCurrentNode(loss)!;
        tracked = tracked.ReplaceNode(currentLoss, currentLoss.WithName(AttributeEditing.Rename(currentLoss.Name, "SoftmaxCrossEntropy")));
        return AttributeEditing.RemoveAttribute(tracked, tracked.GetCurrentNode(softmax)!);
    }
}
