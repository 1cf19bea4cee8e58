using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.CodeFixes;

/// <summary>
/// KLN0222: add <c>Normalize = InputNormalization.PerFeature</c> to [Model]. The model then owns per-feature statistics,
/// which stay the identity until <c>FitInputNormalization</c> runs on the training inputs.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(DeclareNormalizationCodeFix)), Shared]
public sealed class DeclareNormalizationCodeFix : KilnCodeFix
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.NoInputNormalizationId);

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
            Register(context, diagnostic, "Declare per-feature input normalisation", "Kiln.DeclareNormalization", root =>
                AttributeEditing.FindAttribute(root, diagnostic.Location.SourceSpan) is { } attribute
                    ? root.ReplaceNode(attribute, AttributeEditing.AddNamedArgument(attribute, "Normalize",
                        SyntaxFactory.ParseExpression("InputNormalization.PerFeature")))
                    : null);
        return Task.CompletedTask;
    }
}
