using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator;

/// <summary>
/// Checks of the user's declaration against what the generated part adds, so that a conflict is a KLN
/// error on the user's code (docs/rules/KLN0002.md, KLN0016.md, KLN0017.md) instead of compiler errors inside
/// the .g.cs: members named like generated ones or like the members of <c>Kiln.KilnModel</c>, constructors
/// with the generated signatures, primary constructors, and base classes (the generated part derives from
/// <c>Kiln.KilnModel</c>). The names are read from the generated source and from the KilnModel symbol, so the
/// check cannot fall behind the emitter or the runtime.
/// </summary>
internal static class DeclarationChecks
{
    private const string IsaPathType = "Kiln.IsaPath";
    /// <summary>The runtime base class of every generated model.</summary>
    internal const string ModelBaseType = "Kiln.KilnModel";

    /// <summary>True while the declaration is half-typed (a missing class, containing type or namespace name): nothing to generate yet.</summary>
    public static bool IsIncomplete(INamedTypeSymbol type, CancellationToken ct)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            if (t.Name.Length == 0) return true;
            foreach (SyntaxReference reference in t.DeclaringSyntaxReferences)
                if (reference.GetSyntax(ct) is BaseTypeDeclarationSyntax { Identifier.IsMissing: true }) return true;
        }
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
            if (ns.Name.Length == 0) return true;
        return false;
    }

    /// <summary>The parse result with the declaration conflicts added (and the spec dropped when there are any).</summary>
    public static ParseResult Check(INamedTypeSymbol type, Compilation compilation, ParseResult parsed, CancellationToken ct)
    {
        var diagnostics = new List<DiagnosticInfo>();
        CheckConstructors(type, diagnostics, ct);
        CheckBaseClass(type, diagnostics, ct);
        if (parsed.Spec is { } spec)
            CheckMembers(type, spec, compilation, diagnostics, ct);
        if (diagnostics.Count == 0) return parsed;
        return new ParseResult(null, parsed.Diagnostics.Concat(diagnostics).ToEquatableArray());
    }

    private static void CheckConstructors(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        string name = type.Name;
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
            if (reference.GetSyntax(ct) is TypeDeclarationSyntax { ParameterList: { } parameters })
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConstructorConflict, LocationInfo.From(parameters), name,
                    "a model cannot have a primary constructor: the generated constructors would have to call it; declare the parameters as an ordinary constructor that calls this()"));

        foreach (IMethodSymbol ctor in type.InstanceConstructors)
        {
            if (ctor.IsImplicitlyDeclared || !IsUserSource(ctor)) continue;
            bool parameterless = ctor.Parameters.Length == 0;
            bool isaOnly = ctor.Parameters.Length == 1 && ctor.Parameters[0].Type.ToDisplayString() == IsaPathType;
            if (parameterless || isaOnly)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConstructorConflict, LocationInfo.From(ctor.Locations.FirstOrDefault()), name,
                    $"Kiln generates the constructor {name}({(parameterless ? "" : "IsaPath isa")}) (it initialises the parameters); remove this one, or give yours other parameters and call this() from it"));
        }
    }

    /// <summary>
    /// The generated part derives from Kiln.KilnModel, so the user's part cannot name another base class (a class
    /// has one). Deriving from another model is reported by the parser (KLN0002 too); naming KilnModel itself is
    /// allowed, it says what the generated part says.
    /// </summary>
    private static void CheckBaseClass(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        INamedTypeSymbol? baseType = type.BaseType;
        if (baseType is null || baseType.SpecialType == SpecialType.System_Object || baseType.TypeKind == TypeKind.Error) return;
        if (baseType.ToDisplayString() == ModelBaseType || IsModel(baseType)) return;
        diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedModelType, BaseTypeLocation(type, ct), type.Name,
            $"a model cannot derive from '{baseType.Name}': its generated part derives from Kiln.KilnModel, which holds the API every model shares; "
            + $"keep a '{baseType.Name}' in a field (composition) or implement an interface instead"));
    }

    private static bool IsModel(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? b = type; b is not null; b = b.BaseType)
            if (ModelSpecParser.HasModelAttribute(b)) return true;
        return false;
    }

    private static void CheckMembers(INamedTypeSymbol type, ModelSpec spec, Compilation compilation, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        HashSet<string> generated = GeneratedSources.MemberNames(spec);
        HashSet<string> inherited = BaseMemberNames(compilation);
        string name = type.Name;

        if (generated.Contains(name) || inherited.Contains(name))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.GeneratedMemberConflict, LocationInfo.From(type.Locations.FirstOrDefault()), name,
                $"Kiln generates a member named '{name}' in the model, and a member cannot have the name of its class; rename the class"));

        foreach (ISymbol member in type.GetMembers().Concat(type.GetTypeMembers()).Distinct(SymbolEqualityComparer.Default))
        {
            ct.ThrowIfCancellationRequested();
            if (member.IsImplicitlyDeclared || !IsUserSource(member) || !IsNamedMember(member)) continue;
            if (generated.Contains(member.Name))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.GeneratedMemberConflict, LocationInfo.From(member.Locations.FirstOrDefault()), name,
                    $"'{member.Name}' is a member Kiln generates for the model; rename yours"));
            else if (inherited.Contains(member.Name))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.GeneratedMemberConflict, LocationInfo.From(member.Locations.FirstOrDefault()), name,
                    $"'{member.Name}' is a member every model inherits from Kiln.KilnModel (the generated code uses it); rename yours"));
        }
    }

    /// <summary>BaseMemberNames per KilnModel symbol: compilations that share their references share the symbol, so the names are read once.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<INamedTypeSymbol, HashSet<string>> s_baseMembers = new();

    /// <summary>The names of Kiln.KilnModel's members a model sees (public and protected), read from the referenced runtime.</summary>
    private static HashSet<string> BaseMemberNames(Compilation compilation)
    {
        INamedTypeSymbol? kilnModel = compilation.GetTypeByMetadataName(ModelBaseType);
        return kilnModel is null ? new HashSet<string>(StringComparer.Ordinal) : s_baseMembers.GetValue(kilnModel, ReadBaseMemberNames);
    }

    private static HashSet<string> ReadBaseMemberNames(INamedTypeSymbol kilnModel)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (INamedTypeSymbol? b = kilnModel; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
            foreach (ISymbol member in b.GetMembers())
                if (member.DeclaredAccessibility is Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal && IsNamedMember(member) && !member.IsImplicitlyDeclared)
                    names.Add(member.Name);
        return names;
    }

    /// <summary>Members that claim a name in the class: not constructors, accessors, operators or explicit interface implementations.</summary>
    private static bool IsNamedMember(ISymbol member) => member switch
    {
        IMethodSymbol m => m.MethodKind == MethodKind.Ordinary,
        IPropertySymbol p => p.ExplicitInterfaceImplementations.IsEmpty,
        IEventSymbol e => e.ExplicitInterfaceImplementations.IsEmpty,
        IFieldSymbol or INamedTypeSymbol => true,
        _ => false,
    };

    /// <summary>Declared in the user's sources (not in metadata, not in a file Kiln generated).</summary>
    private static bool IsUserSource(ISymbol symbol) =>
        symbol.DeclaringSyntaxReferences.Any(r => !r.SyntaxTree.FilePath.Replace('\\', '/').Contains("Kiln.Generator/"));

    private static LocationInfo? BaseTypeLocation(INamedTypeSymbol type, CancellationToken ct)
    {
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
            if (reference.GetSyntax(ct) is TypeDeclarationSyntax { BaseList.Types.Count: > 0 } declaration)
                return LocationInfo.From(declaration.BaseList.Types[0]);
        return LocationInfo.From(type.Locations.FirstOrDefault());
    }

    /// <summary>
    /// The member names declared by the class <paramref name="className"/> of a generated tree, by the compiler's parse: the
    /// reference <see cref="GeneratedMembers"/> (the scan the checks use) is tested against.
    /// </summary>
    public static HashSet<string> DeclaredMemberNames(SyntaxTree tree, string className)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        ClassDeclarationSyntax? model = tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>()
            .LastOrDefault(c => c.Identifier.ValueText == className);
        if (model is null) return names;
        foreach (MemberDeclarationSyntax member in model.Members)
        {
            switch (member)
            {
                case BaseFieldDeclarationSyntax field:
                    foreach (VariableDeclaratorSyntax v in field.Declaration.Variables) names.Add(v.Identifier.ValueText);
                    break;
                case PropertyDeclarationSyntax { ExplicitInterfaceSpecifier: null } p: names.Add(p.Identifier.ValueText); break;
                case MethodDeclarationSyntax { ExplicitInterfaceSpecifier: null } m: names.Add(m.Identifier.ValueText); break;
                case EventDeclarationSyntax { ExplicitInterfaceSpecifier: null } e: names.Add(e.Identifier.ValueText); break;
                case IndexerDeclarationSyntax { ExplicitInterfaceSpecifier: null }: names.Add("Item"); break;
                case BaseTypeDeclarationSyntax t: names.Add(t.Identifier.ValueText); break;
                case DelegateDeclarationSyntax d: names.Add(d.Identifier.ValueText); break;
            }
        }
        return names;
    }
}
