using System;
using System.Collections.Generic;
using Kiln;
using Kiln.Interop;

namespace InteropExamples;

// Mirrors nn.Sequential(Conv2d(1, 4, 3, padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(), Linear(64, 10)).
[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 64, Seed = 1, Normalize = InputNormalization.None)]
[Conv2D(4, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(10), SoftmaxCrossEntropy]
[Sgd(0.01)]
public partial class SmallConv;

public static class TorchExample
{
    /// <summary>PyTorch weights in, Kiln weights out.</summary>
    public static void RoundTrip(string stateDict, string savedStateDict)
    {
        var model = new SmallConv();
        // nn.Sequential numbering: conv0 ← "0", bn0 ← "1" (relu0 is "2", maxpool0 "3", flatten "4"), dense0 ← "5".
        TorchLoadReport report = TorchWeights.Load(model, stateDict);
        foreach ((string kiln, string torch) in report.Loaded) Console.WriteLine($"{kiln} ← {torch}");

        // Another module layout needs a map from Kiln layer names to PyTorch module prefixes.
        IReadOnlyDictionary<string, string> names = TorchWeights.TorchNames(model,
            new Dictionary<string, string> { ["conv0"] = "features.conv", ["bn0"] = "features.bn", ["dense0"] = "classifier" });
        Console.WriteLine(names["conv0.weight"]); // features.conv.weight

        // ... train with Kiln, then hand the weights back to PyTorch (model.load_state_dict(load_file(path))).
        TorchWeights.Save(model, savedStateDict);
    }
}
