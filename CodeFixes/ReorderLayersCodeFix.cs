using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Analyzers;
using Kiln.Analyzers.Rules;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.CodeFixes;

/// <summary>
/// KLN0110: move the Dropout after the BatchNorm it feeds (and after the activation right after that BatchNorm).
/// KLN0109: move the normalisation (BatchNorm, GroupNorm, InstanceNorm) before the activation it follows. The layer
/// attributes are permuted in place.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReorderLayersCodeFix)), Shared]
public sealed class ReorderLayersCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds =>
        ImmutableArray.Create(Descriptors.DropoutBeforeBatchNormId, Descriptors.BatchNormAfterActivationId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            bool dropout = diagnostic.Id == Descriptors.DropoutBeforeBatchNormId;
            Register(context, diagnostic, dropout ? "Move the dropout after the BatchNorm" : "Move the normalisation before the activation",
                "Kiln.Reorder." + diagnostic.Id, (document, root, cancellationToken) => ReorderAsync(document, root, diagnostic, dropout, cancellationToken));
        }
        return Task.CompletedTask;
    }

    private static async Task<SyntaxNode?> ReorderAsync(Document document, SyntaxNode root, Diagnostic diagnostic, bool dropout, CancellationToken cancellationToken)
    {
        if (AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is not { } attribute) return null;
        if (await AttributeEditing.ParseModelAsync(document, attribute, cancellationToken).ConfigureAwait(false) is not { } parsed) return null;
        ModelSpec spec = parsed.Model.Spec!;
        IReadOnlyList<AttributeSyntax> slots = parsed.Layers;
        int index = slots.ToList().IndexOf(attribute);
        if (index < 0) return null;
        List<int> order = Enumerable.Range(0, slots.Count).ToList();
        if (dropout)
        {
            int target = DropoutBeforeBatchNormAnalyzer.FollowingBatchNorm(spec, index);
            if (target < 0) return null;
            if (target + 1 < spec.Layers.Count && SpecQueries.IsActivation(spec.Layers[target + 1])) target++;
            order.RemoveAt(index);
            order.Insert(target, index); // after removal, position 'target' is right after the old target
        }
        else
        {
            if (index < 1) return null;
            (order[index - 1], order[index]) = (order[index], order[index - 1]);
        }
        return AttributeEditing.ReorderLayers(root, slots, order);
    }
}
