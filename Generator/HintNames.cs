using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Kiln.Generator.Spec;

namespace Kiln.Generator;

/// <summary>
/// Hint names (the generated files' names) for every model of a compilation: built from the
/// namespace-qualified name with only ASCII letters, digits, '_' and '.' (a verbatim <c>@if</c> becomes
/// <c>if</c>, other characters '_'), and unique ignoring case, because the compiler requires unique hint
/// names and a case-insensitive file system would merge <c>Net.g.cs</c> and <c>NET.g.cs</c>. A name
/// shared (ignoring case) by several models gets <c>_2</c>, <c>_3</c>… on all but the first in ordinal order
/// of the full names, so the assignment depends only on the set of models, never on the order they arrive in.
/// </summary>
internal static class HintNames
{
    /// <summary>A model's full name (<see cref="FullName"/>) and its hint name.</summary>
    public sealed record Entry(string FullName, string HintName);

    private const string Suffix = ".g.cs";

    /// <summary>Namespace, containing types ('+') and class: distinct for distinct models.</summary>
    public static string FullName(ModelSpec spec)
    {
        var sb = new StringBuilder();
        if (spec.Namespace.Length > 0) sb.Append(spec.Namespace).Append('.');
        foreach (ContainingType t in spec.ContainingTypes) sb.Append(t.Name).Append('+');
        return sb.Append(spec.ClassName).ToString();
    }

    /// <summary>The file-system-safe base of the hint name, before it is made unique.</summary>
    public static string Sanitize(string fullName)
    {
        var sb = new StringBuilder(fullName.Length);
        foreach (char c in fullName)
            sb.Append(c < 128 && (char.IsLetterOrDigit(c) || c is '_' or '.') ? c : c == '+' ? '.' : '_');
        return sb.ToString();
    }

    /// <summary>Unique hint names for all models, in ordinal order of their full names.</summary>
    public static EquatableArray<Entry> Assign(ImmutableArray<ModelSpec> specs)
    {
        string[] fullNames = specs.Select(FullName).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var bases = fullNames.Select(Sanitize).ToArray();
        var baseCounts = bases.GroupBy(b => b, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var entries = new Entry?[fullNames.Length];
        // First the names nobody else claims, so that a clash never renames an unrelated model…
        for (int i = 0; i < fullNames.Length; i++)
            if (baseCounts[bases[i]] == 1 && taken.Add(bases[i])) entries[i] = new Entry(fullNames[i], bases[i] + Suffix);
        // …then the clashing ones: the first keeps its name when still free, the others are numbered.
        for (int i = 0; i < fullNames.Length; i++)
        {
            if (entries[i] is not null) continue;
            string name = bases[i];
            for (int k = 2; !taken.Add(name); k++) name = bases[i] + "_" + k.ToString(System.Globalization.CultureInfo.InvariantCulture);
            entries[i] = new Entry(fullNames[i], name + Suffix);
        }
        return new EquatableArray<Entry>(entries!);
    }

    /// <summary>The hint name assigned to <paramref name="spec"/>.</summary>
    public static string Lookup(EquatableArray<Entry> entries, ModelSpec spec)
    {
        string fullName = FullName(spec);
        foreach (Entry entry in entries)
            if (entry.FullName == fullName) return entry.HintName;
        return Sanitize(fullName) + Suffix; // not reached: every spec is in the table
    }
}
