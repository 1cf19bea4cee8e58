using System.Globalization;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Tests;

/// <summary>KLN0020: misspelt attributes and named arguments on a model are a KLN error on the attribute, with a suggestion.</summary>
public class UnknownNameTests
{
    [Fact]
    public void A_misspelt_named_argument_names_the_attribute_and_suggests_the_argument()
    {
        const string source = "using Kiln;\n\n[Model(Input = 8, Seed = 1)]\n[Dense(4, Initt = Init.HeNormal), ReLU]\n[Dense(2), SoftmaxCrossEntropy]\n[Adam]\npublic partial class Net;\n";
        GeneratorRun run = GeneratorHarness.Run(source);
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(Descriptors.UnknownNameId, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("Initt", source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        string message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith("'Initt' is not an argument of [Dense]; did you mean 'Init'? ([Dense] takes ", message);
        Assert.Contains("InitScale", message);
        // The model is still generated (the compiler's CS0246 is the only other error): no cascade from generated code.
        Assert.Single(run.Sources);
    }

    [Fact]
    public void An_unknown_attribute_suggests_the_closest_Kiln_attribute()
    {
        const string source = "using Kiln;\n\n[Model(Input = 8, Seed = 1)]\n[Dnse(4), ReLU]\n[Dense(2), SoftmaxCrossEntropy]\n[Adam]\npublic partial class Net;\n";
        GeneratorRun run = GeneratorHarness.Run(source);
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(Descriptors.UnknownNameId, d.Id);
        Assert.Equal("Dnse", source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        Assert.Equal("'Dnse' is not a Kiln attribute; did you mean [Dense]?", d.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_name_far_from_every_Kiln_name_gets_no_guess_and_valid_models_get_no_diagnostic()
    {
        GeneratorRun far = GeneratorHarness.Run("using Kiln;\n\n[Model(Input = 8, Seed = 1)]\n[Quaternion(4)]\n[Dense(2), SoftmaxCrossEntropy]\n[Adam]\npublic partial class Net;\n");
        Assert.Equal("'Quaternion' is not a Kiln attribute", Assert.Single(far.GeneratorDiagnostics).GetMessage(CultureInfo.InvariantCulture));

        GeneratorRun valid = GeneratorHarness.Run("using Kiln;\n\n[Model(Input = 8, Seed = 1)]\n[Dense(4, Init = Init.HeNormal), ReLU]\n[Dense(2), SoftmaxCrossEntropy]\n[Adam(LearningRate = 1e-3)]\npublic partial class Net;\n");
        Assert.DoesNotContain(valid.GeneratorDiagnostics, d => d.Id == Descriptors.UnknownNameId);
    }
}
