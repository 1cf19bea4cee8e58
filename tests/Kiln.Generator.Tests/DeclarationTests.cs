using System;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Tests;

/// <summary>
/// Legal C# around a valid spec (issue 14, items 3 and 4): the generator never throws and never emits
/// code that fails to compile. Either the model generates and the whole compilation is clean, or the
/// user's declaration gets a KLN error (those cases are in <see cref="DiagnosticTests"/>).
/// </summary>
public class DeclarationTests
{
    private const string Spec = "[Model(Input = 4, MaxBatch = 8, Seed = 1)]\n[Dense(3), ReLU, Dense(2), SoftmaxCrossEntropy]\n[Sgd(0.1)]\n";

    private static GeneratorRun RunClean(params string[] sources)
    {
        GeneratorRun run = GeneratorHarness.Run(sources);
        run.AssertNoGeneratorDiagnostics();
        run.AssertOutputCompilesCleanly();
        return run;
    }

    [Fact]
    public void A_verbatim_namespace_generates_under_a_safe_hint_name()
    {
        GeneratorRun run = RunClean("using Kiln;\nnamespace @if.Models;\n" + Spec + "public partial class Net;");
        Assert.Equal("if.Models.Net.g.cs", Assert.Single(run.Sources).Key);
        Assert.Contains("namespace @if.Models", run.SingleSource, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_whose_names_differ_only_by_case_get_distinct_hint_names()
    {
        GeneratorRun run = RunClean("using Kiln;\nnamespace M;\n" + Spec + "public partial class Net;\n" + Spec + "public partial class NET;");
        Assert.Equal(new[] { "M.NET.g.cs", "M.Net_2.g.cs" }, run.Sources.Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void Hint_names_stay_unique_when_a_numbered_name_is_also_declared()
    {
        GeneratorRun run = RunClean("using Kiln;\n" + Spec + "public partial class Net;\n" + Spec + "public partial class NET;\n" + Spec + "public partial class Net_2;");
        Assert.Equal(3, run.Sources.Keys.Select(k => k.ToLowerInvariant()).Distinct().Count());
    }

    [Fact]
    public void A_keyword_class_name_is_escaped()
    {
        GeneratorRun run = RunClean("using Kiln;\nnamespace M;\n" + Spec + "public partial class @class;\n" + Spec + "public partial class @record;");
        Assert.Equal(2, run.Sources.Count);
        Assert.Contains(run.Sources.Values, s => s.Contains("partial class @class", StringComparison.Ordinal));
    }

    [Fact]
    public void Keyword_containing_types_and_namespaces_are_escaped()
    {
        RunClean("using Kiln;\nnamespace @namespace.@for;\npublic partial class @event\n{\n" + Spec + "public partial class @static;\n}");
    }

    [Theory]
    [InlineData(Spec + "public partial class")]
    [InlineData(Spec + "public partial class\n{\n}")]
    [InlineData("public partial class Outer { " + Spec + "public partial class }")]
    [InlineData("public partial class { " + Spec + "public partial class Inner; }")]
    [InlineData("namespace { " + Spec + "public partial class Inner; }")]
    public void A_half_typed_class_generates_nothing_and_reports_nothing(string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n" + declaration);
        Assert.Null(run.Result.Exception);
        Assert.Empty(run.Sources);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.DoesNotContain(run.OutputDiagnostics, d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void User_members_that_do_not_collide_are_fine()
    {
        RunClean("using Kiln;\n" + Spec + """
            public partial class Net
            {
                private int _count;
                public int Count => _count;
                public Net(int count) : this() { _count = count; }
                public override string ToString() => "net";
            }
            """);
    }

    [Fact]
    public void A_base_class_gets_KLN0002_that_names_it_and_KilnModel()
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\npublic abstract class Base { protected Base() { } public int Extra => 1; }\n" + Spec + "public partial class Net : Base;");
        Assert.Empty(run.Sources);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(Descriptors.UnsupportedModelTypeId, diagnostic.Id);
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("cannot derive from 'Base'", message, StringComparison.Ordinal);
        Assert.Contains("Kiln.KilnModel", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Naming_KilnModel_as_the_base_class_is_fine()
    {
        RunClean("using Kiln;\n" + Spec + "public partial class Net : KilnModel;");
    }

    [Fact]
    public void A_model_derived_from_a_model_gets_KLN0002_and_the_base_still_generates()
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n" + Spec + "public partial class BaseModel;\n" + Spec + "public partial class DerivedModel : BaseModel;");
        Assert.Equal("BaseModel.g.cs", Assert.Single(run.Sources).Key);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(Descriptors.UnsupportedModelTypeId, diagnostic.Id);
        Assert.Contains("derives from the model 'BaseModel'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void An_invalid_declaration_does_not_stop_the_other_models()
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n" + Spec + "public partial class Bad { public int MaxBatch => 1; }\n" + Spec + "public partial class Good;");
        Assert.Equal("Good.g.cs", Assert.Single(run.Sources).Key);
        Assert.Equal("KLN0016", Assert.Single(run.GeneratorDiagnostics).Id);
    }
}

/// <summary>[Model] where the compiler already objects (CS0592): Kiln adds its own reason and generates nothing.</summary>
public class UnsupportedKindTests
{
    [Theory]
    [InlineData("public partial struct S;")]
    [InlineData("public partial record struct S;")]
    [InlineData("public partial interface S;")]
    public void Non_class_models_get_KLN0002(string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n[Model(Input = 4)]\n[Dense(2), SoftmaxCrossEntropy]\n[Sgd]\n" + declaration);
        Assert.Null(run.Result.Exception);
        Assert.Empty(run.Sources);
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == Descriptors.UnsupportedModelTypeId);
    }

    [Fact]
    public void A_file_local_model_gets_KLN0002()
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n[Model(Input = 4)]\n[Dense(2), SoftmaxCrossEntropy]\n[Sgd]\nfile partial class F;");
        Assert.Empty(run.Sources);
        Assert.Equal(Descriptors.UnsupportedModelTypeId, Assert.Single(run.GeneratorDiagnostics).Id);
    }
}
