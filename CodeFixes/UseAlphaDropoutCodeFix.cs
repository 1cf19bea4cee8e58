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
/// KLN0123 on a Dropout in a SELU network → AlphaDropout with the same rate and name (docs/techniques.md#regularisation).
/// <c>Scaling</c> is dropped: alpha dropout has its own affine correction. Not offered on a BatchNorm.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseAlphaDropoutCodeFix)), Shared]
public sealed class UseAlphaDropoutCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.SeluCombinationId);

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is not { } found || !IsDropout(found.Name)) continue;
            Register(context, diagnostic, "Use AlphaDropout", "Kiln.UseAlphaDropout", current =>
            {
                if (AttributeEditing.FindAttribute(current, diagnostic.Location.SourceSpan) is not { } attribute) return null;
                AttributeSyntax renamed = attribute.WithName(AttributeEditing.Rename(attribute.Name, "AlphaDropout"));
                if (renamed.ArgumentList is { } list)
                {
                    var kept = list.Arguments.Where(a => a.NameEquals?.Name.Identifier.ValueText != "Scaling").ToList();
                    renamed = renamed.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(kept,
                        Enumerable.Repeat(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space), System.Math.Max(0, kept.Count - 1)))));
                }
                return current.ReplaceNode(attribute, renamed);
            });
        }
    }

    private static bool IsDropout(NameSyntax name)
    {
        SimpleNameSyntax? simple = name switch
        {
            QualifiedNameSyntax q => q.Right,
            AliasQualifiedNameSyntax a => a.Name,
            SimpleNameSyntax s => s,
            _ => null,
        };
        return simple?.Identifier.ValueText is "Dropout" or "DropoutAttribute";
    }
}
