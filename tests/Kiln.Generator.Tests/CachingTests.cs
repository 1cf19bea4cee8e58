using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Generator.Tests;

/// <summary>
/// The incremental pipeline re-does work only when the model changed: the driver runs, the
/// compilation is edited, the same driver runs again, and the tracked steps tell why each output
/// was (or was not) recomputed.
/// </summary>
public class CachingTests
{
    private const string Unrelated = """
        namespace Other;

        public class Unrelated
        {
            public int Value => 42;
        }
        """;

    [Fact]
    public void Comment_in_another_file_regenerates_nothing()
    {
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp, Unrelated);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver, start.Edit(1, text => "// A comment.\n" + text));

        // The parse reads the semantic model, so any edit re-runs it; it must produce an equal result.
        AssertReasons(second, TrackingNames.Parse, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertReasons(second, TrackingNames.Specs, IncrementalStepRunReason.Cached);
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void Unrelated_class_in_a_new_file_regenerates_nothing()
    {
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver,
            start.Compilation.AddSyntaxTrees(GeneratorHarness.Parse(Unrelated, GeneratorHarness.SourcePath(1))));

        AssertReasons(second, TrackingNames.Specs, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void Unrelated_class_in_the_model_file_regenerates_nothing()
    {
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver,
            start.Edit(0, text => text + "\npublic sealed class Helper { }\n"));

        AssertReasons(second, TrackingNames.Specs, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertNoSourceRegenerated(second);
    }

    [Fact]
    public void Comment_above_the_model_shifts_locations_but_regenerates_nothing()
    {
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver, start.Edit(0, text => text.Replace(
            "[Model(", "// The benchmark of (docs/architecture.md),\n// written over three lines\n// to move every location.\n[Model(", StringComparison.Ordinal)));

        // The attribute syntax moved, so the parse ran again, and produced an equal result.
        AssertReasons(second, TrackingNames.Parse, IncrementalStepRunReason.Unchanged);
        AssertReasons(second, TrackingNames.Specs, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void Changed_attribute_argument_modifies_the_spec_and_the_source()
    {
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver,
            start.Edit(0, text => text.Replace("[Dense(256,", "[Dense(128,", StringComparison.Ordinal)));

        AssertReasons(second, TrackingNames.Parse, IncrementalStepRunReason.Modified);
        AssertReasons(second, TrackingNames.Specs, IncrementalStepRunReason.Modified);
        var outputs = SourceOutputReasons(second);
        Assert.Contains(IncrementalStepRunReason.Modified, outputs);
        Assert.NotEqual(first.SingleSource, second.SingleSource);
        Assert.Contains("dense0.weight [784, 128]", second.SingleSource, StringComparison.Ordinal);
        Assert.DoesNotContain("784, 256", second.SingleSource, StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_a_method_of_the_model_class_regenerates_nothing()
    {
        const string part = """
            namespace Kiln.Benchmarks;

            public partial class BenchmarkMlp
            {
                public int Helper() => 1;
            }
            """;
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp, part);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver, start.Edit(1, text => text.Replace("=> 1;", "=> 2;", StringComparison.Ordinal)));

        // The model's symbol spans both files, so its parse re-runs (declaration checks included) and finds the same spec.
        AssertReasons(second, TrackingNames.Parse, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertReasons(second, TrackingNames.Specs, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertNoSourceRegenerated(second);
        Assert.Equal(first.SingleSource, second.SingleSource);
    }

    [Fact]
    public void Adding_a_model_emits_only_the_new_model()
    {
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp);
        GeneratorRun first = start.Run();

        GeneratorRun second = GeneratorHarness.Run(first.Driver,
            start.Compilation.AddSyntaxTrees(GeneratorHarness.Parse(TestModels.DigitsMlp, GeneratorHarness.SourcePath(1))));

        // Every hint name is assigned over all models, so the first model's output pair is recomputed: to an equal value.
        IncrementalStepRunReason[] reasons = SourceOutputReasons(second);
        Assert.Equal(2, reasons.Length);
        Assert.Single(reasons, r => r == IncrementalStepRunReason.New);
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        Assert.Equal(first.SingleSource, second.Sources.Single(s => s.Key.Contains("BenchmarkMlp", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public void Moving_an_invalid_model_re_reports_its_diagnostic_at_the_new_location()
    {
        const string invalid = """
            using Kiln;

            namespace Bad;

            [Model(Input = 8)]
            [Dense(4), Dropout(1.5), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class Invalid;
            """;
        CSharpCompilationBuilder start = new(invalid, TestModels.DigitsMlp);
        GeneratorRun first = start.Run();
        Diagnostic before = Assert.Single(first.GeneratorDiagnostics);

        GeneratorRun second = GeneratorHarness.Run(first.Driver, start.Edit(0, text => "// Moved down a line.\n" + text));

        Diagnostic after = Assert.Single(second.GeneratorDiagnostics);
        Assert.Equal(before.Id, after.Id);
        Assert.Equal(before.Location.SourceSpan.Start + "// Moved down a line.\n".Length, after.Location.SourceSpan.Start);
        Assert.Equal(before.Location.GetLineSpan().StartLinePosition.Line + 1, after.Location.GetLineSpan().StartLinePosition.Line);
        AssertReasons(second, TrackingNames.Diagnostics, IncrementalStepRunReason.Modified);
        // The valid model in the other file is untouched.
        AssertNoSourceRegenerated(second);
    }

    [Fact]
    public void Tracked_outputs_hold_no_symbols_syntax_or_compilations()
    {
        const string invalid = """
            using Kiln;

            [Model(Input = 8, MaxBatch = 1)]
            [Dense(4), BatchNorm, ReLU, Dense(2, Name = "bad name"), MeanSquaredError]
            public partial class Invalid;
            """;
        CSharpCompilationBuilder start = new(TestModels.BenchmarkMlp, TestModels.PReluBinary, TestModels.Nested, invalid);
        GeneratorRun first = start.Run();
        GeneratorRun second = GeneratorHarness.Run(first.Driver, start.Edit(0, text => text.Replace("Seed = 42", "Seed = 43", StringComparison.Ordinal)));

        foreach (GeneratorRun run in new[] { first, second })
        {
            string[] names = typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToArray();
            Assert.NotEmpty(names);
            var problems = new List<string>();
            int walked = 0;
            foreach (string name in names)
            {
                Assert.True(run.Result.TrackedSteps.ContainsKey(name), $"No tracked step named {name}.");
                foreach (IncrementalGeneratorRunStep step in run.Result.TrackedSteps[name])
                    foreach ((object value, IncrementalStepRunReason _) in step.Outputs)
                    {
                        ForbiddenWalker.Walk(value, name, problems);
                        walked++;
                    }
            }
            Assert.True(walked >= 5, $"Only {walked} outputs were walked.");
            Assert.True(problems.Count == 0, "Pipeline outputs hold compiler objects:\n" + string.Join("\n", problems.Distinct().Take(20)));
        }
    }

    [Fact]
    public void Walker_finds_a_symbol_hidden_in_a_value()
    {
        // Guards the guard: the walk does see through records, arrays and private fields.
        GeneratorRun run = GeneratorHarness.Run(TestModels.GlobalNamespace);
        INamedTypeSymbol symbol = run.Output.GetTypeByMetadataName("GlobalModel")!;
        var problems = new List<string>();
        ForbiddenWalker.Walk(new Holder(new object[] { 1, "x", ImmutableArray.Create<object>(symbol.Locations[0]) }), "holder", problems);
        Assert.NotEmpty(problems);
    }

    private sealed record Holder(object[] Items);

    // ------------------------------------------------------------------ helpers

    private static void AssertReasons(GeneratorRun run, string stepName, params IncrementalStepRunReason[] allowed)
    {
        Assert.True(run.Result.TrackedSteps.TryGetValue(stepName, out ImmutableArray<IncrementalGeneratorRunStep> steps), $"No tracked step named {stepName}.");
        var reasons = steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        Assert.NotEmpty(reasons);
        Assert.True(reasons.All(allowed.Contains),
            $"{stepName}: expected only {string.Join("/", allowed)}, got {string.Join(", ", reasons)}.");
    }

    /// <summary>Reasons of the source-output step fed by the specs with their hint names (the one that emits code; the other reports diagnostics).</summary>
    private static IncrementalStepRunReason[] SourceOutputReasons(GeneratorRun run) =>
        run.Result.TrackedOutputSteps.TryGetValue(WellKnownGeneratorOutputs.SourceOutput, out ImmutableArray<IncrementalGeneratorRunStep> steps)
            ? steps.Where(s => s.Inputs.Any(i => i.Source.Name == TrackingNames.Outputs)).SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray()
            : Array.Empty<IncrementalStepRunReason>();

    /// <summary>Every code-emitting source output was cached (or recomputed to an equal value): no model was emitted again.</summary>
    private static void AssertNoSourceRegenerated(GeneratorRun run)
    {
        IncrementalStepRunReason[] reasons = SourceOutputReasons(run);
        Assert.NotEmpty(reasons);
        Assert.True(reasons.All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged),
            "Source outputs re-ran: " + string.Join(", ", reasons));
    }

    /// <summary>A compilation plus edits to one of its files.</summary>
    private sealed class CSharpCompilationBuilder
    {
        public CSharpCompilationBuilder(params string[] sources) => Compilation = GeneratorHarness.CreateCompilation(sources);

        public Microsoft.CodeAnalysis.CSharp.CSharpCompilation Compilation { get; }

        public GeneratorRun Run() => GeneratorHarness.Run(Compilation);

        /// <summary>The compilation with file <paramref name="index"/> replaced by an edited copy (same path and options).</summary>
        public Microsoft.CodeAnalysis.CSharp.CSharpCompilation Edit(int index, Func<string, string> edit)
        {
            SyntaxTree old = Compilation.SyntaxTrees[index];
            string text = old.GetText().ToString();
            string changed = edit(text);
            Assert.NotEqual(text, changed);
            return Compilation.ReplaceSyntaxTree(old, old.WithChangedText(SourceText.From(changed)));
        }
    }
}

/// <summary>Walks an object graph (fields, the properties of generator types, enumerables) looking for compiler objects.</summary>
internal static class ForbiddenWalker
{
    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel),
        typeof(Location), typeof(AttributeData), typeof(SyntaxReference), typeof(Diagnostic),
    };

    public static void Walk(object? root, string path, List<string> problems) =>
        Walk(root, path, problems, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);

    private static void Walk(object? value, string path, List<string> problems, HashSet<object> seen, int depth)
    {
        if (value is null) return;
        Type type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is string or decimal or Type or Delegate) return;
        if (Forbidden.FirstOrDefault(f => f.IsInstanceOfType(value)) is { } forbidden)
        {
            problems.Add($"{path}: {type.FullName} is a {forbidden.Name}");
            return;
        }
        if (typeof(SyntaxToken) == type || typeof(SyntaxTrivia) == type)
        {
            problems.Add($"{path}: {type.Name} holds syntax");
            return;
        }
        if (!type.IsValueType && !seen.Add(value)) return;
        if (depth > 64) { problems.Add($"{path}: nested more than 64 levels"); return; }

        if (value is IEnumerable sequence)
        {
            int i = 0;
            foreach (object? item in sequence) Walk(item, $"{path}[{i++}]", problems, seen, depth + 1);
        }
        for (Type? t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
        {
            foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike) continue;
                Walk(field.GetValue(value), $"{path}.{field.Name}", problems, seen, depth + 1);
            }
            // Computed properties of the generator's own types can hold what no field shows.
            if (t.Assembly != typeof(ModelGenerator).Assembly) continue;
            foreach (PropertyInfo property in t.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly))
            {
                if (property.GetIndexParameters().Length > 0 || property.GetMethod is null || property.PropertyType.IsByRefLike) continue;
                Walk(property.GetValue(value), $"{path}.{property.Name}", problems, seen, depth + 1);
            }
        }
    }
}
