extern alias KilnGenerator;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.AnalyzerBenchmarks;

/// <summary>
/// A synthetic user project: 50 models of 2–5 Dense layers with BatchNorm, dropout, several optimisers,
/// penalties and schedules (a quarter of them with a pitfall), and per model a training workflow
/// (standardisation, Trainer.Fit, evaluation, a search space, a hand-written layer) that the code rules inspect.
/// It is compiled as the build would: user files plus the generator's output.
/// </summary>
public static class SyntheticProject
{
    public const int Models = 50;

    /// <summary>
    /// False: the compiler and the analyzer driver each run on one thread, so the figure measures work rather than
    /// how well two cores shared with other processes happen to overlap (the default of the "quick" mode here).
    /// </summary>
    public static bool Concurrent { get; set; } = true;

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The user sources, one file per model.</summary>
    public static IReadOnlyList<string> Sources()
    {
        var random = new Random(42);
        string[] activations = { "ReLU", "LeakyReLU", "GELU", "ELU", "Swish", "Tanh" };
        string[] optimizers = { "Adam", "Momentum(0.05)", "AdamW", "RMSProp", "Nesterov(0.05)", "Sgd(0.1)" };
        var sources = new List<string>();
        for (int m = 0; m < Models; m++)
        {
            var sb = new StringBuilder();
            sb.AppendLine("using System;\nusing System.Linq;\nusing Kiln;\nusing Kiln.Data;\nusing Kiln.Training;\nusing Kiln.Tuning;\n");
            sb.AppendLine($"namespace Synthetic.Area{m % 5};\n");
            int input = 16 << random.Next(4);
            sb.AppendLine($"[Model(Input = {input}, MaxBatch = 128{(m % 7 == 0 ? "" : $", Seed = {m}")})]");
            int layers = 2 + random.Next(4);
            for (int l = 0; l < layers - 1; l++)
            {
                int units = 16 << random.Next(4);
                string act = activations[random.Next(activations.Length)];
                bool bn = random.Next(2) == 0;
                string dropout = random.Next(3) == 0 ? $", Dropout({0.1 + 0.1 * random.Next(4):0.0})" : "";
                sb.AppendLine(bn
                    ? $"[Dense({units}, Bias = false), BatchNorm, {act}{dropout}]"
                    : $"[Dense({units}, Init = Init.{(act == "Tanh" ? "XavierUniform" : "HeNormal")}), {act}{dropout}]");
            }
            sb.AppendLine("[Dense(10), SoftmaxCrossEntropy]");
            string extra = m % 4 == 0 ? ", L2(1e-4)" : m % 4 == 1 ? ", CosineDecay(Epochs = 20)" : "";
            sb.AppendLine($"[{optimizers[m % optimizers.Length]}{extra}]");
            sb.AppendLine($"public partial class Model{m};\n");

            sb.AppendLine($$"""
                public static class Workflow{{m}}
                {
                    public static double Run(Dataset data, int epochs)
                    {
                        DataSplit split = data.Split(0.8, 42);
                        var standardizer = new Standardizer().Fit(split.Train);
                        Dataset train = standardizer.Transform(split.Train);
                        Dataset test = standardizer.Transform(split.Test);
                        var model = new Model{{m}}();
                        var before = model.Evaluate(train.Features, train.Labels, train.Count);
                        Trainer.Fit(model, train, test, new TrainerOptions { Epochs = 20, BatchSize = 128 });
                        var outputs = new float[10];
                        model.Predict(test.Features.AsSpan(0, Model{{m}}.InputSize), outputs, 1);
                        return Trainer.Evaluate(model, test).Accuracy - before.Accuracy;
                    }

                    public static HyperParameters[] Trials(int count)
                    {
                        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).OneMinusLogUniform("beta1", 0.8, 0.99).Choice("units", 64, 128);
                        var random = new KilnRandom({{m}});
                        var trials = new HyperParameters[count];
                        for (int i = 0; i < count; i++) trials[i] = space.Sample(ref random);
                        return trials;
                    }
                }

                public sealed class Layer{{m}}
                {
                    private readonly float _keep = 0.9f;
                    private readonly Random _random = new({{m}});

                    public void Forward(float[] h)
                    {
                        for (int i = 0; i < h.Length; i++)
                            h[i] = _random.NextSingle() < _keep ? h[i] / _keep : 0f;
                    }
                }
                """);
            sources.Add(sb.ToString());
        }
        return sources;
    }

    /// <summary>The user files plus the generator's output: what the compiler compiles and the analyzers see.</summary>
    public static Compilation Create()
    {
        Compilation compilation = UserCompilation(Models);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new KilnGenerator::Kiln.Generator.ModelGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        if (generatorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            throw new InvalidOperationException("The synthetic models are invalid:\n" + string.Join("\n", generatorDiagnostics));
        return output;
    }

    /// <summary>The first <paramref name="models"/> user files only (no generated code), as the generator first sees them.</summary>
    public static CSharpCompilation UserCompilation(int models)
    {
        string runtime = typeof(Kiln.ModelAttribute).Assembly.Location;
        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        var references = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in tpa.Split(Path.PathSeparator))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && (name.StartsWith("System", StringComparison.Ordinal) || name is "mscorlib" or "netstandard"))
                references.TryAdd(name, path);
        }
        references["Kiln.Runtime"] = runtime;
        var trees = Sources().Take(models).Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, $"/synthetic/Model{i}.cs"));
        return CSharpCompilation.Create("Synthetic", trees,
            references.Values.Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary).WithNullableContextOptions(NullableContextOptions.Enable).WithAllowUnsafe(true));
    }

    /// <summary>Every Kiln analyzer.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers() => typeof(Kiln.Analyzers.KilnAnalyzer).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetCustomAttributes(typeof(DiagnosticAnalyzerAttribute), false).Length > 0)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    /// <summary>Compiler diagnostics of a fresh copy of the compilation (binding and checking every method body).</summary>
    public static int CompileOnly(Compilation compilation) => Prepare(compilation).GetDiagnostics().Length;

    private static Compilation Prepare(Compilation compilation) =>
        compilation.Clone().WithOptions(compilation.Options.WithConcurrentBuild(Concurrent)); // a fresh copy: nothing bound yet

    /// <summary>The same, plus every Kiln analyzer (CompilationWithAnalyzers.GetAllDiagnosticsAsync).</summary>
    public static int CompileWithAnalyzers(Compilation compilation, ImmutableArray<DiagnosticAnalyzer> analyzers) =>
        Prepare(compilation).WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: Concurrent, logAnalyzerExecutionTime: false))
            .GetAllDiagnosticsAsync().GetAwaiter().GetResult().Length;

    /// <summary>Only the analyzers' diagnostics (CompilationWithAnalyzers.GetAnalyzerDiagnosticsAsync) on a fresh copy.</summary>
    public static int AnalyzeOnly(Compilation compilation, ImmutableArray<DiagnosticAnalyzer> analyzers) =>
        Prepare(compilation).WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null,
            concurrentAnalysis: Concurrent, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult().Length;
}
