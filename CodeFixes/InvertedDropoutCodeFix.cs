using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>KLN0112 (Scaling = None) and KLN0312 (Scaling = TestTime, "vanilla"): use DropoutScaling.Inverted.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InvertedDropoutCodeFix)), Shared]
public sealed class InvertedDropoutCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds =>
        ImmutableArray.Create(Descriptors.UnscaledDropoutId, Descriptors.TestTimeDropoutId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Use inverted dropout", "Kiln.InvertedDropout." + diagnostic.Id, root =>
            {
                if (AttributeEditing.FindArgument(root, diagnostic.Location.SourceSpan) is not { } argument) return null;
                ExpressionSyntax replacement = argument.Expression is MemberAccessExpressionSyntax access
                    ? access.WithName(SyntaxFactory.IdentifierName("Inverted").WithTriviaFrom(access.Name))
                    : SyntaxFactory.ParseExpression("DropoutScaling.Inverted").WithTriviaFrom(argument.Expression);
                return root.ReplaceNode(argument.Expression, replacement);
            });
        return Task.CompletedTask;
    }
}
