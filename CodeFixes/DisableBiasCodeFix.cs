using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>KLN0108: <c>Bias = true</c> → <c>Bias = false</c>, or <c>Bias = false</c> appended to the Dense arguments.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(DisableBiasCodeFix)), Shared]
public sealed class DisableBiasCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.BiasBeforeBatchNormId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Set Bias = false", "Kiln.DisableBias", root =>
            {
                if (AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is not { } attribute) return null;
                LiteralExpressionSyntax no = SyntaxFactory.LiteralExpression(SyntaxKind.FalseLiteralExpression);
                if (ModelSyntax.Argument(attribute, "Bias") is { } bias)
                    return root.ReplaceNode(bias.Expression, no.WithTriviaFrom(bias.Expression));
                return root.ReplaceNode(attribute, AttributeEditing.AddNamedArgument(attribute, "Bias", no));
            });
        return Task.CompletedTask;
    }
}
