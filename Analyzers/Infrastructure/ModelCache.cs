using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers;

/// <summary>
/// Parses each model once per compilation, however many spec rules look at it. Keyed weakly by the
/// compilation, so nothing outlives it.
/// </summary>
internal static class ModelCache
{
    private static readonly ConditionalWeakTable<Compilation, ConcurrentDictionary<INamedTypeSymbol, ParsedModel>> s_models = new();

    public static ParsedModel Get(Compilation compilation, INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        ConcurrentDictionary<INamedTypeSymbol, ParsedModel> models = s_models.GetValue(compilation,
            static _ => new ConcurrentDictionary<INamedTypeSymbol, ParsedModel>(SymbolEqualityComparer.Default));
        if (models.TryGetValue(type, out ParsedModel? parsed)) return parsed;
        parsed = ModelSpecParser.ParseDetailed(type, cancellationToken);
        return models.GetOrAdd(type, parsed);
    }
}
