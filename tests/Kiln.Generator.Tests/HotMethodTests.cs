using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator.Tests;

/// <summary>
/// Every generated method a training step or a Predict call runs carries
/// MethodImpl(MethodImplOptions.AggressiveOptimization), so the JIT compiles it optimised on its first call instead
/// of tier 0, OSR and an instrumented tier during the first epoch (docs/perf/first-epoch.md); methods that run once
/// (construction, initialisation, folding weights for inference) keep normal tiering.
/// </summary>
public class HotMethodTests
{
    public static TheoryData<string> Models => new(TestModels.All.Keys);

    /// <summary>The per-step methods by name; every stage body (a generic method over TIsa taking part, parts) as well.</summary>
    private static readonly HashSet<string> HotByName = new(StringComparer.Ordinal)
    {
        "TrainCore", "ForwardTraining", "ComputeLoss", "Backward", "ForwardInference",
        "RunStage", "RunStageAvx512", "RunStageAvx2", "RunStagePortable", "CopyChannelsLast",
    };

    private static readonly HashSet<string> ColdByName = new(StringComparer.Ordinal)
    {
        "InitializeParameters", "PrepareInferenceWeights", "LayerOutput", "FractionalRegions",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Per_step_methods_are_compiled_optimised_from_the_first_call(string model)
    {
        GeneratorRun run = GeneratorHarness.Run(TestModels.All[model]);
        run.AssertNoGeneratorDiagnostics();
        List<MethodDeclarationSyntax> methods = CSharpSyntaxTree.ParseText(run.SingleSource).GetRoot()
            .DescendantNodes().OfType<MethodDeclarationSyntax>().ToList();

        var stageNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (MethodDeclarationSyntax m in methods.Where(IsStageBody)) stageNames.Add(m.Identifier.ValueText);
        Assert.True(stageNames.Count > 0, $"{model}: no stage bodies found.");

        int hot = 0;
        foreach (MethodDeclarationSyntax m in methods)
        {
            string name = m.Identifier.ValueText;
            if (HotByName.Contains(name) || stageNames.Contains(name))
            {
                Assert.True(IsAggressivelyOptimized(m), $"{model}: {name} runs every step but is not marked AggressiveOptimization.");
                hot++;
            }
            else if (ColdByName.Contains(name))
            {
                Assert.False(IsAggressivelyOptimized(m), $"{model}: {name} runs once and should tier normally.");
            }
        }
        // TrainCore, ForwardTraining, ComputeLoss, Backward, both ForwardInference, four dispatchers, and the stages.
        Assert.True(hot >= 9 + stageNames.Count, $"{model}: only {hot} hot methods found.");
    }

    /// <summary>A stage body: <c>private void Name&lt;TIsa&gt;(int part, int parts)</c>.</summary>
    private static bool IsStageBody(MethodDeclarationSyntax m) =>
        m.TypeParameterList?.Parameters.Count == 1 && m.TypeParameterList.Parameters[0].Identifier.ValueText == "TIsa"
        && m.ParameterList.Parameters.Select(p => p.Identifier.ValueText).SequenceEqual(new[] { "part", "parts" });

    private static bool IsAggressivelyOptimized(MethodDeclarationSyntax m) =>
        m.AttributeLists.SelectMany(l => l.Attributes).Any(a =>
            a.Name.ToString().EndsWith("MethodImpl", StringComparison.Ordinal)
            && a.ArgumentList?.Arguments.Any(arg => arg.Expression.ToString().EndsWith("MethodImplOptions.AggressiveOptimization", StringComparison.Ordinal)) == true);
}
