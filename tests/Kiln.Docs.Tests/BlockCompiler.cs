extern alias KilnGenerator;
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Docs.Tests;

/// <summary>
/// Compiles one documentation block the way a user's console project would build it: the SDK's implicit usings of
/// a console app (System, System.IO, System.Linq, ...), a reference to Kiln.Runtime (and, for the pages about them, Kiln.Orleans and ONNX Runtime), the Kiln generator and every
/// Kiln analyzer. Kiln's own namespaces are not implied: a block says <c>using Kiln;</c> like user code does.
/// </summary>
public static class BlockCompiler
{
    /// <summary>The global usings of a <c>dotnet new console</c> project (ImplicitUsings enabled).</summary>
    public const string ImplicitUsings =
        "global using System;\nglobal using System.Collections.Generic;\nglobal using System.IO;\nglobal using System.Linq;\n" +
        "global using System.Net.Http;\nglobal using System.Threading;\nglobal using System.Threading.Tasks;\n";

    private static readonly ImmutableArray<MetadataReference> References =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
        .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
        .Append(typeof(Kiln.ModelAttribute).Assembly.Location)
        .Append(AssemblyMetadata("KilnOrleansAssembly"))                             // docs/distributed.md
        .Append(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.Location) // docs/interop.md
        .Distinct()
        .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
        .ToImmutableArray();

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
        typeof(Kiln.Analyzers.Words).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();

    private static string AssemblyMetadata(string key) =>
        typeof(BlockCompiler).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>Compiler, generator and analyzer diagnostics of <paramref name="code"/> (warnings and errors).</summary>
    public static IReadOnlyList<Diagnostic> Compile(string code)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        SyntaxTree tree = CSharpSyntaxTree.ParseText(code, parse, path: "Block.cs");
        bool program = tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>().Any();
        var options = new CSharpCompilationOptions(program ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true);
        CSharpCompilation compilation = CSharpCompilation.Create("DocBlock",
            new[] { tree, CSharpSyntaxTree.ParseText(ImplicitUsings, parse, path: "ImplicitUsings.g.cs") }, References, options);

        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new KilnGenerator::Kiln.Generator.ModelGenerator().AsSourceGenerator() },
            parseOptions: parse);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation generated, out ImmutableArray<Diagnostic> generatorDiagnostics);
        ImmutableArray<Diagnostic> all = generated.WithAnalyzers(Analyzers).GetAllDiagnosticsAsync().GetAwaiter().GetResult();
        return generatorDiagnostics.Concat(all)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.IsSuppressed)
            .ToList();
    }
}
