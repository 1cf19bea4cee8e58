using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>
/// KLN0120: SearchSpace.Uniform → LogUniform (offered when the lower bound is positive); KLN0220: Uniform →
/// OneMinusLogUniform. The arguments stay: both take the same (name, low, high).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LogScaleSearchCodeFix)), Shared]
public sealed class LogScaleSearchCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds =>
        ImmutableArray.Create(Descriptors.LinearScaleSearchId, Descriptors.LinearBetaSearchId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue("Method", out string? method) || method is null) continue;
            Register(context, diagnostic, "Sample with " + method, "Kiln.SearchScale." + method, root =>
            {
                SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
                if (node.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { Expression: MemberAccessExpressionSyntax access }) return null;
                return root.ReplaceNode(access.Name, SyntaxFactory.IdentifierName(method).WithTriviaFrom(access.Name));
            });
        }
        return Task.CompletedTask;
    }
}
