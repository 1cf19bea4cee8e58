using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator;

/// <summary>
/// The generated source of a spec and the member names it declares, emitted once per spec. The declaration checks
/// need the names in the parse step (DeclarationChecks), and the output step writes the same source: the first takes
/// the text from the second instead of emitting the model again. The names stay memoised (an edit elsewhere in the
/// model's file re-runs the parse step with an equal spec); the text is handed out once, so none is held after a run.
/// </summary>
internal static class GeneratedSources
{
    private sealed class Entry
    {
        public Entry(string source, HashSet<string> names) { Source = source; Names = names; }
        public string? Source;
        public HashSet<string> Names { get; }
    }

    private static readonly ConcurrentDictionary<ModelSpec, Entry> s_entries = new();
    /// <summary>Beyond this many specs the memo starts over (a long IDE session leaves old specs behind).</summary>
    private const int MaxMemoised = 256;
    private static int s_count;

    /// <summary>Every member name the generated class declares (fields, properties, methods, events, nested types).</summary>
    public static HashSet<string> MemberNames(ModelSpec spec)
    {
        if (s_entries.TryGetValue(spec, out Entry? known)) return known.Names;
        string source = Emit(spec);
        var entry = new Entry(source, GeneratedMembers.Names(source, spec.ClassName));
        // ConcurrentDictionary.Count takes every lock: an approximate count of our own is enough for a bound.
        if (Interlocked.Increment(ref s_count) > MaxMemoised)
        {
            s_entries.Clear();
            Interlocked.Exchange(ref s_count, 1);
        }
        s_entries[spec] = entry;
        return entry.Names;
    }

    /// <summary>The generated source: the text <see cref="MemberNames"/> emitted for this spec if it is still unclaimed, else a new emission.</summary>
    public static string Source(ModelSpec spec) =>
        s_entries.TryGetValue(spec, out Entry? known) && Interlocked.Exchange(ref known.Source, null) is { } source ? source : Emit(spec);

    private static string Emit(ModelSpec spec) => ModelEmitter.Emit(Planner.Build(spec));
}
