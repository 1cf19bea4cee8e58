extern alias KilnGenerator;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using Gen = KilnGenerator::Kiln.Generator;

namespace Kiln.AnalyzerBenchmarks;

/// <summary>
/// Where the generator's time goes, stage by stage, over the 50 synthetic models (the thread's CPU time, medians of rounds): the
/// parse of the attributes, the declaration checks, the unknown-name check, the plan, the emission, the SourceText and
/// the compiler's parse of the generated file. Each round uses specs no earlier round used (as GeneratorCost does).
/// </summary>
public static class GeneratorStages
{
    public static int Run(int rounds)
    {
        string[] stages = { "parse (ModelSpecParser)", "declaration checks", "unknown names", "plan", "emit", "SourceText + parse of output", "whole driver (new)" };
        var samples = stages.Select(_ => new List<double>()).ToArray();
        IReadOnlyList<string> sources = SyntheticProject.Sources();
        CSharpCompilation user = SyntheticProject.UserCompilation(SyntheticProject.Models);
        for (int round = -2; round < rounds; round++)
        {
            // New MaxBatch values: new specs, so that no memo answers.
            CSharpCompilation compilation = user;
            for (int m = 0; m < sources.Count; m++)
            {
                SyntaxTree old = compilation.SyntaxTrees.First(t => t.FilePath == $"/synthetic/Model{m}.cs");
                string text = sources[m].Replace("MaxBatch = 128", "MaxBatch = " + (500 + round).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                compilation = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, SyntheticProject.ParseOptions, old.FilePath));
            }
            var times = new double[stages.Length];
            long t0;
            var work = new List<(INamedTypeSymbol Type, SemanticModel Model, ClassDeclarationSyntax Declaration)>();
            foreach (SyntaxTree tree in compilation.SyntaxTrees)
            {
                SemanticModel model = compilation.GetSemanticModel(tree);
                foreach (ClassDeclarationSyntax declaration in tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>())
                    if (model.GetDeclaredSymbol(declaration) is INamedTypeSymbol type && type.Name.StartsWith("Model", StringComparison.Ordinal))
                        work.Add((type, model, declaration));
            }
            var specs = new List<Gen.Spec.ModelSpec>();
            t0 = ThreadCpuClock.Now();
            var parsed = work.Select(w => Gen.Spec.ModelSpecParser.Parse(w.Type, default)).ToList();
            times[0] = (ThreadCpuClock.Now() - t0) / 1e6;
            t0 = ThreadCpuClock.Now();
            for (int i = 0; i < work.Count; i++) parsed[i] = Gen.DeclarationChecks.Check(work[i].Type, compilation, parsed[i], default);
            times[1] = (ThreadCpuClock.Now() - t0) / 1e6;
            t0 = ThreadCpuClock.Now();
            foreach (var w in work) Gen.UnknownNames.Find(w.Model, w.Type, w.Declaration, default).ToArray();
            times[2] = (ThreadCpuClock.Now() - t0) / 1e6;
            t0 = ThreadCpuClock.Now();
            var plans = parsed.Select(p => Gen.Planning.Planner.Build(p.Spec ?? throw new InvalidOperationException("invalid model"))).ToList();
            times[3] = (ThreadCpuClock.Now() - t0) / 1e6;
            t0 = ThreadCpuClock.Now();
            var emitted = plans.Select(Gen.Emitting.ModelEmitter.Emit).ToList();
            times[4] = (ThreadCpuClock.Now() - t0) / 1e6;
            t0 = ThreadCpuClock.Now();
            foreach (string source in emitted) CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), SyntheticProject.ParseOptions).GetRoot();
            times[5] = (ThreadCpuClock.Now() - t0) / 1e6;

            // The whole generator on yet another set of specs.
            CSharpCompilation again = compilation;
            for (int m = 0; m < sources.Count; m++)
            {
                SyntaxTree old = again.SyntaxTrees.First(t => t.FilePath == $"/synthetic/Model{m}.cs");
                string text = sources[m].Replace("MaxBatch = 128", "MaxBatch = " + (2000 + round).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                again = again.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, SyntheticProject.ParseOptions, old.FilePath));
            }
            GC.Collect();
            t0 = ThreadCpuClock.Now();
            CSharpGeneratorDriver.Create(new[] { new Gen.ModelGenerator().AsSourceGenerator() }, parseOptions: SyntheticProject.ParseOptions).RunGenerators(again);
            times[6] = (ThreadCpuClock.Now() - t0) / 1e6;
            if (round >= 0)
                for (int s = 0; s < stages.Length; s++) samples[s].Add(times[s]);
        }
        Console.WriteLine($"{SyntheticProject.Models} models, medians of {rounds} rounds (ms of CPU time per model)");
        for (int s = 0; s < stages.Length; s++)
        {
            double median = samples[s].OrderBy(x => x).ElementAt(samples[s].Count / 2);
            Console.WriteLine($"{stages[s],-32} {median / SyntheticProject.Models,8:F2}");
        }
        return 0;
    }
}
