using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.CodeFixes;

/// <summary>KLN0122: add <c>Seed = 0</c> to [Model] — the seed already in use, so behaviour does not change.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ExplicitSeedCodeFix)), Shared]
public sealed class ExplicitSeedCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.NoSeedId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Declare Seed = 0 (the seed in use)", "Kiln.ExplicitSeed", root =>
                AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is { } attribute
                    ? root.ReplaceNode(attribute, AttributeEditing.AddNamedArgument(attribute, "Seed",
                        SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(0))))
                    : null);
        return Task.CompletedTask;
    }
}
