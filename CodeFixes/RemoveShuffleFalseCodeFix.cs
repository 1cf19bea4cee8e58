using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>
/// KLN0132: remove <c>Shuffle = false</c> from the options' initializer (TrainerOptions shuffles by default). Offered only
/// where the diagnostic sits on that assignment; the hand-written epoch loop has no single edit.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveShuffleFalseCodeFix)), Shared]
public sealed class RemoveShuffleFalseCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.UnshuffledTrainingDataId);

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? document = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (document is null || Assignment(document, diagnostic) is null) continue;
            Register(context, diagnostic, "Shuffle the training data (remove Shuffle = false)", "Kiln.RemoveShuffleFalse", root =>
                Assignment(root, diagnostic) is { Parent: InitializerExpressionSyntax initializer } assignment
                    ? root.ReplaceNode(initializer, initializer.WithExpressions(initializer.Expressions.Remove(assignment)))
                    : null);
        }
    }

    private static AssignmentExpressionSyntax? Assignment(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).AncestorsAndSelf().OfType<AssignmentExpressionSyntax>()
            .FirstOrDefault(a => a.Left is IdentifierNameSyntax { Identifier.ValueText: "Shuffle" } && a.Right.IsKind(SyntaxKind.FalseLiteralExpression)
                && a.Parent is InitializerExpressionSyntax);
}
