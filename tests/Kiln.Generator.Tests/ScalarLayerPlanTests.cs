using System.Linq;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Tests;

/// <summary>Fixup's scalar layers in the plan (docs/techniques.md#initialisation): one trainable scalar each, unpenalised by default.</summary>
public class ScalarLayerPlanTests
{
    [Fact]
    public void Scalars_are_one_float_tensors_that_penalties_reach_only_with_Regularize()
    {
        const string source = """
            using Kiln;

            [Model(Input = 6, MaxBatch = 8, Seed = 1)]
            [Dense(8), ScalarBias, ReLU, Multiplier, ScalarBias(Regularize = true), Multiplier(LearningRateScale = 0.5), Dense(3)]
            [SoftmaxCrossEntropy, Sgd(0.1), L2(1e-3, ApplyTo = PenaltyTarget.All)]
            public partial class Scalars;
            """;
        GeneratorHarness.Run(source).AssertNoGeneratorDiagnostics();
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        ParseResult parsed = ModelSpecParser.Parse(compilation.GetTypeByMetadataName("Scalars")!, default);
        ModelPlan plan = Planner.Build(parsed.Spec!);
        TensorPlan Tensor(string name) => plan.Tensors.Single(t => t.Name == name);

        foreach (string name in new[] { "scalarbias0.bias", "multiplier0.scale", "scalarbias1.bias", "multiplier1.scale" })
            Assert.Equal(1, Tensor(name).Length);
        Assert.Equal(0, Tensor("scalarbias0.bias").L2);
        Assert.Equal(0, Tensor("multiplier0.scale").L2);
        Assert.Equal(1e-3, Tensor("scalarbias1.bias").L2);
        Assert.Equal(0, Tensor("multiplier1.scale").L2);
        Assert.Equal(0.5, Tensor("multiplier1.scale").LearningRateScale);
        Assert.Equal(1e-3, Tensor("dense0.bias").L2); // the penalty does reach every other tensor
    }
}
