using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator;

/// <summary>
/// KLN0020: an attribute or a named argument on a model class that does not resolve (<c>[Dnse(10)]</c>,
/// <c>[Dense(10, Initt = …)]</c>). The compiler only says CS0246 ("type or namespace not found"); this names the
/// attribute it was written on and suggests the closest Kiln name. Reported in addition to the compiler's error.
/// </summary>
internal static class UnknownNames
{
    /// <summary>
    /// The KLN0020 diagnostics of the attributes written on <paramref name="declaration"/>, a declaration of
    /// <paramref name="modelType"/>. The attributes the compiler bound for the type (<c>GetAttributes</c>, which the parse has
    /// read already) answer for those that resolved with all their named arguments; only the others are bound again
    /// through the semantic model.
    /// </summary>
    public static IEnumerable<DiagnosticInfo> Find(SemanticModel model, INamedTypeSymbol modelType, ClassDeclarationSyntax declaration, CancellationToken ct)
    {
        string[]? kilnAttributes = null;
        System.Collections.Immutable.ImmutableArray<AttributeData> bound = modelType.GetAttributes();
        foreach (AttributeSyntax attribute in declaration.AttributeLists.SelectMany(l => l.Attributes))
        {
            ct.ThrowIfCancellationRequested();
            if (ResolvedCompletely(bound, attribute)) continue;
            ISymbol? constructor = model.GetSymbolInfo(attribute, ct).Symbol;
            INamedTypeSymbol? type = constructor?.ContainingType ?? model.GetTypeInfo(attribute, ct).Type as INamedTypeSymbol;
            if (type is null || type.TypeKind == TypeKind.Error)
            {
                // Only an attribute that resolves to nothing at all: a known attribute with wrong arguments is the compiler's.
                if (model.GetSymbolInfo(attribute, ct).CandidateSymbols.Length > 0) continue;
                kilnAttributes ??= KilnAttributeNames(model.Compilation);
                string written = Simplify(attribute.Name);
                yield return DiagnosticInfo.Create(Descriptors.UnknownName, LocationInfo.From(attribute.Name),
                    written, "a Kiln attribute", Suggest(written, kilnAttributes, "[", "]"));
                continue;
            }
            if (type.ContainingNamespace?.ToDisplayString() != "Kiln" || attribute.ArgumentList is null) continue;
            foreach (AttributeArgumentSyntax argument in attribute.ArgumentList.Arguments)
            {
                if (argument.NameEquals is null || model.GetSymbolInfo(argument.NameEquals.Name, ct).Symbol is not null) continue;
                string[] names = SettableNames(type);
                string written = argument.NameEquals.Name.Identifier.ValueText;
                string shortName = ShortName(type.Name);
                yield return DiagnosticInfo.Create(Descriptors.UnknownName, LocationInfo.From(argument.NameEquals.Name),
                    written, $"an argument of [{shortName}]",
                    Suggest(written, names, "'", "'") + (names.Length == 0 ? $" ([{shortName}] has no named arguments)" : $" ([{shortName}] takes {string.Join(", ", names)})"));
            }
        }
    }

    /// <summary>
    /// True when the compiler bound <paramref name="attribute"/> to an attribute class and every named argument written
    /// in it to a member: then the semantic model would find nothing to report either.
    /// </summary>
    private static bool ResolvedCompletely(System.Collections.Immutable.ImmutableArray<AttributeData> bound, AttributeSyntax attribute)
    {
        foreach (AttributeData data in bound)
        {
            SyntaxReference? reference = data.ApplicationSyntaxReference;
            if (reference is null || reference.Span != attribute.Span || reference.SyntaxTree != attribute.SyntaxTree) continue;
            if (data.AttributeClass is not { TypeKind: not TypeKind.Error }) return false;
            if (attribute.ArgumentList is null) return true;
            foreach (AttributeArgumentSyntax argument in attribute.ArgumentList.Arguments)
            {
                if (argument.NameEquals is null) continue;
                string written = argument.NameEquals.Name.Identifier.ValueText;
                bool found = false;
                foreach (KeyValuePair<string, TypedConstant> named in data.NamedArguments)
                    if (named.Key == written) { found = true; break; }
                if (!found) return false;
            }
            return true;
        }
        return false;
    }

    private static string Simplify(NameSyntax name) => name switch
    {
        QualifiedNameSyntax q => q.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax a => a.Name.Identifier.ValueText,
        SimpleNameSyntax s => s.Identifier.ValueText,
        _ => name.ToString(),
    };

    private static string ShortName(string typeName) =>
        typeName.EndsWith("Attribute", StringComparison.Ordinal) ? typeName.Substring(0, typeName.Length - "Attribute".Length) : typeName;

    /// <summary>The attribute classes of the Kiln namespace, without the Attribute suffix (Dense, ReLU, Adam, ...).</summary>
    private static string[] KilnAttributeNames(Compilation compilation)
    {
        INamedTypeSymbol? model = compilation.GetTypeByMetadataName(ModelSpecParser.ModelAttributeName);
        INamedTypeSymbol? attribute = compilation.GetTypeByMetadataName("System.Attribute");
        if (model?.ContainingNamespace is not { } kiln || attribute is null) return Array.Empty<string>();
        return kiln.GetTypeMembers()
            .Where(t => !t.IsAbstract && t.DeclaredAccessibility == Accessibility.Public && DerivesFrom(t, attribute))
            .Select(t => ShortName(t.Name))
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();
    }

    private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
    {
        for (INamedTypeSymbol? t = type.BaseType; t is not null; t = t.BaseType)
            if (SymbolEqualityComparer.Default.Equals(t, baseType)) return true;
        return false;
    }

    /// <summary>Public settable properties and fields of an attribute class and its bases (the names a named argument can use).</summary>
    private static string[] SettableNames(INamedTypeSymbol type)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        for (INamedTypeSymbol? t = type; t is not null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
        {
            if (t.ToDisplayString() == "System.Attribute") break;
            foreach (ISymbol member in t.GetMembers())
            {
                if (member.DeclaredAccessibility != Accessibility.Public || member.IsStatic) continue;
                if (member is IPropertySymbol { SetMethod: { DeclaredAccessibility: Accessibility.Public } } || member is IFieldSymbol { IsReadOnly: false, IsConst: false })
                    names.Add(member.Name);
            }
        }
        return names.ToArray();
    }

    /// <summary>"; did you mean 'X'?" for the closest candidate (edit distance, case-insensitive), or "".</summary>
    private static string Suggest(string written, string[] candidates, string open, string close)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int d = Distance(written.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        return best is not null && bestDistance <= Math.Max(2, written.Length / 3) ? $"; did you mean {open}{best}{close}?" : "";
    }

    private static int Distance(string a, string b)
    {
        int[] previous = Enumerable.Range(0, b.Length + 1).ToArray(), current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
