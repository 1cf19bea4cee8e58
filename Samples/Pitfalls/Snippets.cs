using System;
using System.Linq;
using Kiln.Data;
using Kiln.Training;
using Kiln.Tuning;

namespace Kiln.Samples.Pitfalls;

/// <summary>The code rules: calls into the runtime and hand-written layer code, one snippet per rule.</summary>
public static class Snippets
{
    /// <summary>KLN0113: a training step on test data.</summary>
    public static void TrainOnTestData(Clean model, DataSplit split)
    {
        Dataset test = split.Test;
        model.TrainStep(test.Features.AsSpan(0, 64 * 64), test.Labels.AsSpan(0, 64), 64); // KLN0113
    }

    /// <summary>KLN0213: inference on a model that is never trained.</summary>
    public static float[] PredictUntrained(float[] inputs)
    {
        var model = new Clean();
        var outputs = new float[10];
        model.Predict(inputs, outputs, 1);                                                  // KLN0213
        return outputs;
    }

    /// <summary>KLN0121: standardisation statistics fitted on the test split.</summary>
    public static Standardizer LeakyStandardizer(DataSplit split) =>
        new Standardizer().Fit(split.Test);                                                 // KLN0121

    /// <summary>KLN0119: a 100-epoch cosine schedule in a 10-epoch run.</summary>
    public static RunSummary ShortCosineRun(Dataset train) =>
        Trainer.Fit(new CosineHundredEpochs(), train, null, 10, 64);                         // KLN0119

    /// <summary>KLN0120 and KLN0220: learning rate and momentum sampled on linear scales.</summary>
    public static SearchSpace LinearSearch() => new SearchSpace()
        .Uniform("lr", 1e-4, 1e-1)                                                          // KLN0120
        .Uniform("momentum", 0.8, 0.99);                                                    // KLN0220

    /// <summary>KLN0320: grid search over three hyper-parameters.</summary>
    public static int GridOverThree() => new SearchSpace()
        .LogUniform("lr", 1e-4, 1e-1)
        .Choice("units", 64, 128)
        .Uniform("dropout", 0, 0.5)
        .Grid(3).Count();                                                                   // KLN0320
}

/// <summary>KLN0212: a hand-written dropout that forgets the 1/p scale.</summary>
public sealed class HandWrittenDropout
{
    private readonly float _keep = 0.8f;
    private readonly Random _random = new(1);

    public void Forward(float[] activations)
    {
        for (int i = 0; i < activations.Length; i++)
            activations[i] *= _random.NextSingle() < _keep ? 1f : 0f;                          // KLN0212
    }
}
