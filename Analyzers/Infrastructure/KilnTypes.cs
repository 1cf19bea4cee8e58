using System.Linq;
using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers;

/// <summary>The Kiln runtime types the rules look for, resolved once per compilation.</summary>
public sealed class KilnTypes
{
    private KilnTypes(Compilation compilation)
    {
        ModelAttribute = compilation.GetTypeByMetadataName("Kiln.ModelAttribute");
        KilnModel = compilation.GetTypeByMetadataName("Kiln.IKilnModel");
        Trainer = compilation.GetTypeByMetadataName("Kiln.Training.Trainer");
        Standardizer = compilation.GetTypeByMetadataName("Kiln.Data.Standardizer");
        SearchSpace = compilation.GetTypeByMetadataName("Kiln.Tuning.SearchSpace");
        Dataset = compilation.GetTypeByMetadataName("Kiln.Data.Dataset");
        DataSplit = compilation.GetTypeByMetadataName("Kiln.Data.DataSplit");
        TrainerOptions = compilation.GetTypeByMetadataName("Kiln.Training.TrainerOptions");
        Lbfgs = compilation.GetTypeByMetadataName("Kiln.Training.Lbfgs");
        BatchAugmentation = compilation.GetTypeByMetadataName("Kiln.Augmentation.IBatchAugmentation");
    }

    public INamedTypeSymbol? ModelAttribute { get; }
    public INamedTypeSymbol? KilnModel { get; }
    public INamedTypeSymbol? Trainer { get; }
    public INamedTypeSymbol? Standardizer { get; }
    public INamedTypeSymbol? SearchSpace { get; }
    public INamedTypeSymbol? Dataset { get; }
    public INamedTypeSymbol? DataSplit { get; }
    public INamedTypeSymbol? TrainerOptions { get; }
    public INamedTypeSymbol? Lbfgs { get; }
    public INamedTypeSymbol? BatchAugmentation { get; }

    /// <summary>True when <paramref name="type"/> is <paramref name="kilnType"/> (both known).</summary>
    public static bool Is(ITypeSymbol? type, INamedTypeSymbol? kilnType) =>
        type is not null && kilnType is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, kilnType);

    /// <summary>An implementation of Kiln's IBatchAugmentation (or the interface itself).</summary>
    public bool IsAugmentation(ITypeSymbol? type) => BatchAugmentation is not null && type is not null
        && (Is(type, BatchAugmentation) || type.AllInterfaces.Any(i => Is(i, BatchAugmentation)));

    /// <summary>The types, or null when the compilation does not reference Kiln (then no rule registers anything).</summary>
    public static KilnTypes? Resolve(Compilation compilation)
    {
        var types = new KilnTypes(compilation);
        return types.ModelAttribute is null && types.KilnModel is null ? null : types;
    }

    /// <summary>True for a class declared with [Model].</summary>
    public bool HasModelAttribute(INamedTypeSymbol type)
    {
        if (ModelAttribute is null) return false;
        foreach (AttributeData attribute in type.GetAttributes())
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, ModelAttribute)) return true;
        return false;
    }

    /// <summary>A Kiln model: IKilnModel itself, a type implementing it, or a [Model] class (before generation).</summary>
    public bool IsModelType(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol named) return false;
        if (KilnModel is not null && (SymbolEqualityComparer.Default.Equals(named, KilnModel)
            || named.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, KilnModel)))) return true;
        return HasModelAttribute(named);
    }

    /// <summary>True when <paramref name="method"/> is named <paramref name="name"/> and belongs to a Kiln model.</summary>
    public bool IsModelMethod(IMethodSymbol method, string name) => method.Name == name && IsModelType(method.ContainingType);

    /// <summary>True for a static method of Kiln.Training.Trainer named <paramref name="name"/>.</summary>
    public bool IsTrainerMethod(IMethodSymbol method, string name) =>
        method.Name == name && Trainer is not null && SymbolEqualityComparer.Default.Equals(method.ContainingType, Trainer);
}
