using System;

namespace Kiln.Samples.Pitfalls;

/// <summary>
/// Kiln's pitfall gallery. The point of this project is its build output: `dotnet build Samples/Pitfalls`
/// lists one Kiln diagnostic per rule (see Models.cs and Snippets.cs for the annotated sources and
/// docs/rules/ for each rule). Running it prints the gallery.
/// </summary>
public static class Program
{
    private static readonly (string Id, string Where)[] Gallery =
    {
        ("KLN0101", nameof(HiddenSigmoid)), ("KLN0102", nameof(DoubleActivation)), ("KLN0103", nameof(DoubleSoftmax)),
        ("KLN0104", nameof(ReluBeforeLoss)), ("KLN0105", nameof(XavierBeforeRelu)), ("KLN0106", nameof(ZeroInit)),
        ("KLN0107", nameof(SmallGaussianDeep)), ("KLN0108", nameof(BiasBeforeBatchNorm)), ("KLN0109", nameof(BatchNormAfterRelu)),
        ("KLN0110", nameof(DropoutBeforeBatchNorm)), ("KLN0111", nameof(HeavyDropout)), ("KLN0112", nameof(UnscaledDropout)),
        ("KLN0312", nameof(VanillaDropout)), ("KLN0113", nameof(Snippets.TrainOnTestData)), ("KLN0213", nameof(Snippets.PredictUntrained)),
        ("KLN0114", nameof(HighAdamRate)), ("KLN0115", nameof(AdaGradModel)), ("KLN0116", nameof(NoisyLbfgs)),
        ("KLN0117", nameof(DecayEverything)), ("KLN0217", nameof(StrongL2)), ("KLN0118", nameof(LargeBatchNoWarmup)),
        ("KLN0119", nameof(Snippets.ShortCosineRun)), ("KLN0120", nameof(Snippets.LinearSearch)), ("KLN0220", nameof(Snippets.LinearSearch)),
        ("KLN0320", nameof(Snippets.GridOverThree)), ("KLN0121", nameof(Snippets.LeakyStandardizer)), ("KLN0122", nameof(NoSeed)), ("KLN0222", nameof(NoNormalization)),
        ("KLN0123", nameof(SeluWithBatchNorm)), ("KLN0212", nameof(HandWrittenDropout)),
    };

    public static int Main()
    {
        Console.WriteLine("Kiln pitfall gallery: build this project to see each rule reported (docs/rules/<id>.md explains it).");
        foreach ((string id, string where) in Gallery) Console.WriteLine($"  {id}  {where}");
        var model = new Clean();
        Console.WriteLine($"The clean model has {model.Tensors.Count} tensors and raises nothing.");
        return 0;
    }
}
