using System.Linq;

namespace Kiln.Generator.Tests;

/// <summary>
/// The generated code compiles against the real Kiln.Runtime with no error and no warning (at the
/// strictest warning level, nullable enabled). This needs the kernel library of Runtime/Kernels to
/// be complete: while Runtime/Kernels/Api.stub.cs stands in for it, the kernel types the code names
/// (epilogues, activation structs, panel sinks) are missing and these tests fail.
/// </summary>
public class CompilationTests
{
    public static TheoryData<string> Models() => new(TestModels.All.Keys);

    [Theory]
    [MemberData(nameof(Models))]
    public void Generated_code_compiles_without_diagnostics(string model)
    {
        GeneratorRun run = GeneratorHarness.Run(TestModels.All[model]);

        run.AssertNoGeneratorDiagnostics();
        Assert.Single(run.Sources);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void All_models_compile_together()
    {
        GeneratorRun run = GeneratorHarness.Run(TestModels.All.Values.ToArray());

        run.AssertNoGeneratorDiagnostics();
        Assert.Equal(TestModels.All.Count, run.Sources.Count);
        run.AssertOutputCompilesCleanly();
    }
}
