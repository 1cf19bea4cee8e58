using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>What the values read for a search key feed (flags: a key read twice can feed both).</summary>
[Flags]
public enum KeyUse
{
    /// <summary>No read of the key was found, or its value goes somewhere the walk cannot name.</summary>
    Unknown = 0,
    /// <summary>A momentum/β/ρ argument or member of an API the user does not write (OptimizerStep's beta1, a β option).</summary>
    Beta = 1,
    /// <summary>Another argument or member of such an API (a learning rate, a batch size, a dropout rate...).</summary>
    Other = 2,
}

/// <summary>
/// Where the values a search space samples end up: every read of a constant key of <c>Kiln.Tuning.HyperParameters</c>
/// (<c>hp.GetDouble("k")</c>, <c>GetInt32</c>, <c>Get&lt;T&gt;</c>, <c>hp["k"]</c>) in the compilation's source, followed forward
/// through conversions, locals and parameters of source methods (<see cref="MaxDepth"/> hops) to the argument or member of
/// a metadata API it sets. That API's own parameter or member name says what the value is (β1 of OptimizerStep, a
/// learning rate...); the user's key never does. Computed once per compilation, on first use.
/// </summary>
public static class SearchKeyUses
{
    public const int MaxDepth = 4;
    private static readonly ConditionalWeakTable<Compilation, Lazy<Dictionary<string, KeyUse>>> s_uses = new();

    /// <summary>What the reads of <paramref name="key"/> feed in <paramref name="cache"/>'s compilation.</summary>
    public static KeyUse Of(string key, FlowCache cache, CancellationToken cancellationToken)
    {
        Lazy<Dictionary<string, KeyUse>> uses = s_uses.GetValue(cache.Compilation, c => new Lazy<Dictionary<string, KeyUse>>(() => Compute(cache, cancellationToken), LazyThreadSafetyMode.PublicationOnly));
        return uses.Value.TryGetValue(key, out KeyUse use) ? use : KeyUse.Unknown;
    }

    private static Dictionary<string, KeyUse> Compute(FlowCache cache, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, KeyUse>(StringComparer.Ordinal);
        INamedTypeSymbol? hyperParameters = cache.Compilation.GetTypeByMetadataName("Kiln.Tuning.HyperParameters");
        if (hyperParameters is null) return result;
        foreach (SyntaxTree tree in cache.Compilation.SyntaxTrees)
        {
            if (cache.IsGenerated(tree, cancellationToken)) continue;
#pragma warning disable RS1030 // once per compilation, as FlowCache.Body
            SemanticModel model = cache.Compilation.GetSemanticModel(tree);
#pragma warning restore RS1030
            foreach (SyntaxNode node in tree.GetRoot(cancellationToken).DescendantNodes())
            {
                if (node is not (InvocationExpressionSyntax or ElementAccessExpressionSyntax)) continue;
                if (model.GetOperation(node, cancellationToken) is not { } read || KeyOf(read, hyperParameters) is not { } key) continue;
                result.TryGetValue(key, out KeyUse use);
                result[key] = use | Uses(read, Operations.Root(read), cache, 0, cancellationToken);
            }
        }
        return result;
    }

    private static string? KeyOf(IOperation read, INamedTypeSymbol hyperParameters)
    {
        (IOperation? instance, IMethodSymbol? method, IOperation? argument) = read switch
        {
            IInvocationOperation { TargetMethod.Name: "GetDouble" or "GetInt32" or "Get" } call when call.Arguments.Length == 1 => (call.Instance, call.TargetMethod, call.Arguments[0].Value),
            IPropertyReferenceOperation { Property.IsIndexer: true } indexer when indexer.Arguments.Length == 1 => (indexer.Instance, indexer.Property.GetMethod, indexer.Arguments[0].Value),
            _ => (null, null, null),
        };
        if (method is null || !SymbolEqualityComparer.Default.Equals(instance?.Type, hyperParameters)) return null;
        return Operations.ConstantString(argument);
    }

    /// <summary>What the value of <paramref name="value"/> (an operation in the body <paramref name="root"/>) feeds.</summary>
    private static KeyUse Uses(IOperation value, IOperation root, FlowCache cache, int depth, CancellationToken cancellationToken)
    {
        (IOperation? parent, IOperation child) = Operations.Outer(value);
        switch (parent)
        {
            case IArgumentOperation { Parameter: { } parameter }:
                if (parameter.ContainingSymbol is IMethodSymbol method && cache.Body(method, cancellationToken) is { } body)
                    return depth < MaxDepth ? UsesOf(parameter, body, cache, depth + 1, cancellationToken) : KeyUse.Unknown;
                return Named(parameter.Name);
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                return depth < MaxDepth ? UsesOf(declarator.Symbol, root, cache, depth + 1, cancellationToken) : KeyUse.Unknown;
            case ISimpleAssignmentOperation assignment when assignment.Value == child:
                return assignment.Target switch
                {
                    ILocalReferenceOperation local when depth < MaxDepth => UsesOf(local.Local, root, cache, depth + 1, cancellationToken),
                    IMemberReferenceOperation { Member: var member } when member.ContainingType?.DeclaringSyntaxReferences.Length == 0 => Named(member.Name),
                    _ => KeyUse.Unknown,
                };
            case IConditionalOperation or ICoalesceOperation when depth < MaxDepth:
                return Uses(parent, root, cache, depth + 1, cancellationToken);
            default:
                return KeyUse.Unknown;
        }
    }

    private static KeyUse UsesOf(ISymbol variable, IOperation root, FlowCache cache, int depth, CancellationToken cancellationToken)
    {
        KeyUse use = KeyUse.Unknown;
        foreach (IOperation operation in root.DescendantsAndSelf())
        {
            ISymbol? referenced = operation switch
            {
                ILocalReferenceOperation local => local.Local,
                IParameterReferenceOperation parameter => parameter.Parameter,
                _ => null,
            };
            if (referenced is null || !SymbolEqualityComparer.Default.Equals(referenced.OriginalDefinition, variable.OriginalDefinition)) continue;
            if (operation.Parent is ISimpleAssignmentOperation assignment && assignment.Target == operation) continue;
            use |= Uses(operation, root, cache, depth, cancellationToken);
        }
        return use;
    }

    private static KeyUse Named(string apiName) => SearchCalls.IsBetaName(apiName) ? KeyUse.Beta : KeyUse.Other;
}
