using System;
using System.Linq;
using Kiln;
using Kiln.Data;
using Kiln.Interop;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace InteropExamples;

[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 64, Seed = 1, Normalize = InputNormalization.PerChannel)]
[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2), Flatten]
[Dense(32), ReLU, Dropout(0.2), Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class DigitsConv;

public static class OnnxExample
{
    /// <summary>Trains a little, exports to ONNX, runs the file in ONNX Runtime; returns max |ONNX Runtime − Predict|.</summary>
    public static double Run(string path)
    {
        DataSplit digits = EmbeddedData.DigitsSplit();
        var model = new DigitsConv();
        model.FitInputNormalization(digits.Train.Features, digits.Train.Count);
        for (int start = 0; start + 64 <= digits.Train.Count; start += 64)
            model.TrainStep(digits.Train.Features.AsSpan(start * 64, 64 * 64), digits.Train.Labels.AsSpan(start, 64), 64);

        // Input "pixels" [batch, 1, 8, 8] (raw pixels: the fitted normalisation is in the graph), output "probabilities" [batch, 10].
        OnnxExport.Save(model, path, new OnnxExportOptions { InputName = "pixels", OutputName = "probabilities", InputLayout = OnnxInputLayout.Nchw });

        const int batch = 5;
        float[] images = digits.Test.Features.AsSpan(0, batch * 64).ToArray();
        var expected = new float[batch * 10];
        model.Predict(images, expected, batch);

        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(images, [batch, 1, 8, 8]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("pixels", input)]);
        float[] actual = results.Single(r => r.Name == "probabilities").AsEnumerable<float>().ToArray();
        Console.WriteLine($"step {session.ModelMetadata.CustomMetadataMap["kiln_step"]} of {session.ModelMetadata.CustomMetadataMap["kiln_model"]}");
        return actual.Zip(expected, (a, e) => Math.Abs(a - (double)e)).Max();
    }
}
