using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>KLN0105: replace the Init value by the one that matches the activation (He, Xavier or LeCun, from the diagnostic's "Init" property).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MatchInitCodeFix)), Shared]
public sealed class MatchInitCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.InitMismatchId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue("Init", out string? init) || init is null) continue;
            Register(context, diagnostic, "Use Init." + init, "Kiln.MatchInit", root =>
            {
                if (AttributeEditing.FindArgument(root, diagnostic.Location.SourceSpan) is not { } argument) return null;
                ExpressionSyntax replacement = argument.Expression is MemberAccessExpressionSyntax access
                    ? access.WithName(SyntaxFactory.IdentifierName(init).WithTriviaFrom(access.Name))
                    : SyntaxFactory.ParseExpression("Init." + init).WithTriviaFrom(argument.Expression);
                return root.ReplaceNode(argument.Expression, replacement);
            });
        }
        return Task.CompletedTask;
    }
}
