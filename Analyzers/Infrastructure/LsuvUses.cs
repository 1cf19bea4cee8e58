using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>
/// The [Model] classes the compilation's source initialises with LSUV (docs/training.md): a <c>Lsuv.Initialize(model, …)</c>
/// call, or a <c>Trainer.Fit</c> whose options set <c>Lsuv</c> to a non-null value (followed through locals, object
/// initializers, <c>with</c> and helpers, as <see cref="FitCall"/> reads them). The model class is found by following the model
/// value to its <c>new</c> (<see cref="FitCall.ModelClass"/>). LSUV rescales every Dense/Conv2D layer to unit output variance
/// before training, so the rules about the initial scale (KLN0107, KLN0126) stand down for these models. Computed once per
/// compilation, on first use (only when a rule would otherwise report).
/// </summary>
public static class LsuvUses
{
    private static readonly ConditionalWeakTable<Compilation, Lazy<HashSet<INamedTypeSymbol>>> s_models = new();

    /// <summary>True when <paramref name="model"/> is LSUV-initialised somewhere in <paramref name="compilation"/>'s source.</summary>
    public static bool Initialises(Compilation compilation, INamedTypeSymbol model, CancellationToken cancellationToken)
    {
        Lazy<HashSet<INamedTypeSymbol>> models = s_models.GetValue(compilation,
            c => new Lazy<HashSet<INamedTypeSymbol>>(() => Compute(c, cancellationToken), LazyThreadSafetyMode.PublicationOnly));
        return models.Value.Contains(model.OriginalDefinition);
    }

    private static HashSet<INamedTypeSymbol> Compute(Compilation compilation, CancellationToken cancellationToken)
    {
        var result = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        KilnTypes? types = KilnTypes.Resolve(compilation);
        INamedTypeSymbol? lsuv = compilation.GetTypeByMetadataName("Kiln.Training.Lsuv");
        if (types is null) return result;
        var context = new CodeContext(compilation, types, cancellationToken);
        foreach (SyntaxTree tree in compilation.SyntaxTrees)
        {
            if (context.Cache.IsGenerated(tree, cancellationToken)) continue;
            SemanticModel? model = null;
            foreach (SyntaxNode node in tree.GetRoot(cancellationToken).DescendantNodes())
            {
                // A cheap syntactic filter first: only calls named Initialize or Fit are bound.
                if (node is not InvocationExpressionSyntax invocation) continue;
                string? name = invocation.Expression switch
                {
                    MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
                    IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
                    _ => null,
                };
                if (name is not ("Initialize" or "Fit")) continue;
#pragma warning disable RS1030 // once per compilation, as FlowCache.Body
                model ??= compilation.GetSemanticModel(tree);
#pragma warning restore RS1030
                if (model.GetOperation(invocation, cancellationToken) is not IInvocationOperation call) continue;
                INamedTypeSymbol? initialised = null;
                if (name == "Initialize" && lsuv is not null && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, lsuv))
                {
                    foreach (IArgumentOperation argument in call.Arguments)
                        if (argument.Parameter?.Name == "model") initialised = FitCall.ModelClass(argument.Value, context);
                }
                else if (FitCall.Read(call, context, compilation) is { } fit && fit.IsSet("Lsuv") == true) initialised = fit.ModelType;
                if (initialised is not null) result.Add(initialised.OriginalDefinition);
            }
        }
        return result;
    }
}
