using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.CodeFixes;

/// <summary>Syntax edits on DSL attributes shared by the fixes. They keep the user's layout and spelling.</summary>
internal static class AttributeEditing
{
    /// <summary>The attribute that contains (or is) the node at <paramref name="span"/>.</summary>
    public static AttributeSyntax? FindAttribute(SyntaxNode root, TextSpan span) =>
        root.FindNode(span, getInnermostNodeForTie: true).FirstAncestorOrSelf<AttributeSyntax>();

    /// <summary>The attribute argument at <paramref name="span"/>, if the diagnostic is on one.</summary>
    public static AttributeArgumentSyntax? FindArgument(SyntaxNode root, TextSpan span) =>
        root.FindNode(span, getInnermostNodeForTie: true).FirstAncestorOrSelf<AttributeArgumentSyntax>();

    /// <summary>
    /// <paramref name="name"/> with its last identifier replaced by <paramref name="newName"/> (keeping an
    /// "Attribute" suffix and any qualification: <c>Kiln.SigmoidAttribute</c> → <c>Kiln.ReLUAttribute</c>).
    /// </summary>
    public static NameSyntax Rename(NameSyntax name, string newName)
    {
        switch (name)
        {
            case QualifiedNameSyntax qualified:
                return qualified.WithRight((SimpleNameSyntax)Rename(qualified.Right, newName));
            case AliasQualifiedNameSyntax alias:
                return alias.WithName((SimpleNameSyntax)Rename(alias.Name, newName));
            case SimpleNameSyntax simple:
                string text = simple.Identifier.ValueText.EndsWith("Attribute", System.StringComparison.Ordinal) ? newName + "Attribute" : newName;
                return SyntaxFactory.IdentifierName(SyntaxFactory.Identifier(simple.Identifier.LeadingTrivia, text, simple.Identifier.TrailingTrivia));
            default:
                return name;
        }
    }

    /// <summary>
    /// <paramref name="attribute"/> with the argument <c>name = value</c> appended (", " before it), or with an
    /// argument list created for it.
    /// </summary>
    public static AttributeSyntax AddNamedArgument(AttributeSyntax attribute, string name, ExpressionSyntax value)
    {
        AttributeArgumentSyntax argument = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(name),
                SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
            null, value);
        if (attribute.ArgumentList is not { } list)
            return attribute.WithArgumentList(SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)));
        var nodes = list.Arguments.ToList();
        var separators = list.Arguments.GetSeparators().ToList();
        if (nodes.Count > 0) separators.Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space));
        nodes.Add(argument);
        return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(nodes, separators)));
    }

    /// <summary>
    /// <paramref name="root"/> without <paramref name="attribute"/>: removed from its list with its separator, or the
    /// whole <c>[...]</c> line when it was alone there.
    /// </summary>
    public static SyntaxNode RemoveAttribute(SyntaxNode root, AttributeSyntax attribute)
    {
        if (attribute.Parent is not AttributeListSyntax list) return root;
        if (list.Attributes.Count > 1)
            return root.ReplaceNode(list, list.WithAttributes(list.Attributes.Remove(attribute)));
        bool comments = list.GetLeadingTrivia().Any(t => t.IsKind(SyntaxKind.SingleLineCommentTrivia) || t.IsKind(SyntaxKind.MultiLineCommentTrivia)
            || t.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) || t.IsKind(SyntaxKind.MultiLineDocumentationCommentTrivia));
        return root.RemoveNode(list, comments ? SyntaxRemoveOptions.KeepLeadingTrivia : SyntaxRemoveOptions.KeepNoTrivia) ?? root;
    }

    /// <summary>
    /// <paramref name="root"/> with the model's layer attributes permuted: the layer slot <c>k</c> (in source order)
    /// receives the attribute of layer <c>order[k]</c>. Attribute lists, separators and line breaks stay where they are.
    /// </summary>
    public static SyntaxNode ReorderLayers(SyntaxNode root, IReadOnlyList<AttributeSyntax> slots, IReadOnlyList<int> order)
    {
        var map = new Dictionary<AttributeSyntax, AttributeSyntax>();
        for (int k = 0; k < slots.Count; k++)
            if (order[k] != k) map[slots[k]] = slots[order[k]].WithTriviaFrom(slots[k]);
        return root.ReplaceNodes(map.Keys, (original, _) => map[original]);
    }

    /// <summary>The parsed model the attribute belongs to (shared parser), with its layer attributes; null when it cannot be read.</summary>
    public static async Task<(ParsedModel Model, IReadOnlyList<AttributeSyntax> Layers)?> ParseModelAsync(Document document, AttributeSyntax attribute, CancellationToken cancellationToken)
    {
        if (attribute.FirstAncestorOrSelf<ClassDeclarationSyntax>() is not { } declaration) return null;
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (model?.GetDeclaredSymbol(declaration, cancellationToken) is not INamedTypeSymbol type) return null;
        ParsedModel parsed = ModelSpecParser.ParseDetailed(type, cancellationToken);
        if (parsed.Spec is null || parsed.Syntax.Layers.Any(l => l is null || l.SyntaxTree != attribute.SyntaxTree)) return null;
        return (parsed, parsed.Syntax.Layers.Select(l => l!).ToList());
    }
}
