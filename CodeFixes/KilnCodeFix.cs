using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace Kiln.CodeFixes;

/// <summary>Base of the Kiln fixes: batch fix-all (document, project, solution) and one-line registration.</summary>
public abstract class KilnCodeFix : CodeFixProvider
{
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <summary>Registers a document edit titled <paramref name="title"/> with the equivalence key <paramref name="key"/>.</summary>
    protected static void Register(CodeFixContext context, Diagnostic diagnostic, string title, string key,
        Func<SyntaxNode, SyntaxNode?> edit)
    {
        Document document = context.Document;
        context.RegisterCodeFix(CodeAction.Create(title, async cancellationToken =>
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            SyntaxNode? changed = root is null ? null : edit(root);
            return changed is null || changed == root ? document : document.WithSyntaxRoot(changed);
        }, key), diagnostic);
    }

    /// <summary>Registers an edit that needs the document (for example its semantic model).</summary>
    protected static void Register(CodeFixContext context, Diagnostic diagnostic, string title, string key,
        Func<Document, SyntaxNode, CancellationToken, Task<SyntaxNode?>> edit)
    {
        Document document = context.Document;
        context.RegisterCodeFix(CodeAction.Create(title, async cancellationToken =>
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            SyntaxNode? changed = root is null ? null : await edit(document, root, cancellationToken).ConfigureAwait(false);
            return changed is null || changed == root ? document : document.WithSyntaxRoot(changed);
        }, key), diagnostic);
    }
}
