using System.Globalization;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Tests;

/// <summary>KLN0020: misspelt attributes and named arguments on a model are a KLN error on the attribute, with a suggestion.</summary>
public class UnknownNameTests
{
    /// <summary>Runs the generator on a model with <paramref name="layers"/> as its first layer line; its one diagnostic and the text it covers.</summary>
    private static (Diagnostic Diagnostic, string Covered, GeneratorRun Run) Single(string layers)
    {
        string source = "using Kiln;\n\n[Model(Input = 8, Seed = 1)]\n" + layers + "\n[Dense(2), SoftmaxCrossEntropy]\n[Adam]\npublic partial class Net;\n";
        GeneratorRun run = GeneratorHarness.Run(source);
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(Descriptors.UnknownNameId, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        return (d, source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length), run);
    }

    [Fact]
    public void A_misspelt_named_argument_names_the_attribute_and_suggests_the_argument()
    {
        (Diagnostic d, string covered, GeneratorRun run) = Single("[Dense(4, Initt = Init.HeNormal), ReLU]");
        Assert.Equal("Initt", covered);
        string message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith("'Initt' is not an argument of [Dense]; did you mean 'Init'? ([Dense] takes ", message);
        Assert.Contains("InitScale", message);
        // The model is still generated (the compiler's CS0246 is the only other error): no cascade from generated code.
        Assert.Single(run.Sources);
    }

    [Fact]
    public void An_unknown_attribute_suggests_the_closest_Kiln_attribute()
    {
        (Diagnostic d, string covered, _) = Single("[Dnse(4), ReLU]");
        Assert.Equal("Dnse", covered);
        Assert.Equal("'Dnse' is not a Kiln attribute; did you mean [Dense]?", d.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_name_far_from_every_Kiln_name_gets_no_guess_and_valid_models_get_no_diagnostic()
    {
        Assert.Equal("'Quaternion' is not a Kiln attribute", Single("[Quaternion(4)]").Diagnostic.GetMessage(CultureInfo.InvariantCulture));

        GeneratorRun valid = GeneratorHarness.Run("using Kiln;\n\n[Model(Input = 8, Seed = 1)]\n[Dense(4, Init = Init.HeNormal), ReLU]\n[Dense(2), SoftmaxCrossEntropy]\n[Adam(LearningRate = 1e-3)]\npublic partial class Net;\n");
        Assert.DoesNotContain(valid.GeneratorDiagnostics, d => d.Id == Descriptors.UnknownNameId);
    }
}
