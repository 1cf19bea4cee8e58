using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Checkpoints;
using Kiln.Interop;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Interop.Tests;

/// <summary>PyTorch state_dicts made by Fixtures/make_fixtures.py, loaded into the mirroring Kiln models, and saved back.</summary>
public sealed class TorchWeightsTests(ITestOutputHelper output)
{
    /// <summary>The explicit map of the ResNet fixture (Kiln layer → PyTorch module), as in make_fixtures.py's RESNET_MAP.</summary>
    public static readonly Dictionary<string, string> ResNetMap = new()
    {
        ["conv0"] = "stem", ["bn0"] = "stem_bn", ["conv1"] = "down", ["bn1"] = "down_bn", ["conv2"] = "down2",
        ["residual0"] = "shortcut", ["conv3"] = "body1", ["conv4"] = "body2", ["dense0"] = "fc",
    };

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static (IKilnModel Model, Dictionary<string, string>? Map) Create(string name) => name switch
    {
        "mlp" => (new TorchMlp(), null),
        "cnn" => (new TorchCnn(), null),
        "resnet" => (new TorchResNet(), ResNetMap),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("resnet")]
    public void PyTorchWeightsGiveKilnPyTorchsPredictions(string name)
    {
        (IKilnModel model, Dictionary<string, string>? map) = Create(name);
        TorchLoadReport report = TorchWeights.Load(model, Fixture(name + ".safetensors"), map);
        Assert.Equal(model.Tensors.Count, report.Loaded.Count);
        Assert.All(report.Ignored, n => Assert.EndsWith(".num_batches_tracked", n));

        CheckpointFile io = Checkpoint.Read(Fixture(name + ".io.safetensors"));
        float[] x = io.Find("input")!.ToFloatArray(), expected = io.Find("output")!.ToFloatArray();
        int batch = x.Length / model.InputSize;
        var actual = new float[batch * model.OutputSize];
        model.Predict(x, actual, batch);
        double diff = expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max();
        output.WriteLine($"{name}: max |Kiln − PyTorch| = {diff:E2} over {batch}×{model.OutputSize} probabilities");
        Assert.True(diff <= 1e-5, $"{name}: Kiln differs from PyTorch by {diff:E3}");

        // The same weights exported to ONNX run the same in ONNX Runtime.
        double onnx = TestSupport.CompareWithOnnxRuntime(model, new OnnxExportOptions(), out double scale);
        Assert.True(onnx <= 1e-5 * scale);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("resnet")]
    public void SavingGivesBackPyTorchsNamesShapesAndValues(string name)
    {
        (IKilnModel model, Dictionary<string, string>? map) = Create(name);
        TorchWeights.Load(model, Fixture(name + ".safetensors"), map);
        string path = Path.Combine(Path.GetTempPath(), $"kiln-torch-{Guid.NewGuid():N}.safetensors");
        try
        {
            TorchWeights.Save(model, path, map);
            // KILN_TORCH_CHECK_DIR=DIR keeps the saved files for `make_fixtures.py check DIR` (PyTorch loads them strictly).
            if (Environment.GetEnvironmentVariable("KILN_TORCH_CHECK_DIR") is { Length: > 0 } keep) File.Copy(path, Path.Combine(keep, name + ".safetensors"), overwrite: true);
            CheckpointFile original = Checkpoint.Read(Fixture(name + ".safetensors")), saved = Checkpoint.Read(path);
            Assert.Equal(original.Tensors.Select(t => t.Name).Order(), saved.Tensors.Select(t => t.Name).Order());
            foreach (CheckpointTensor t in original.Tensors)
            {
                CheckpointTensor s = saved.Find(t.Name)!;
                Assert.Equal(t.DType, s.DType);
                Assert.Equal(t.Shape, s.Shape);
                if (t.DType == "F32") Assert.True(t.Data.Span.SequenceEqual(s.Data.Span), $"{name}: {t.Name} differs after Load then Save");
            }
            Assert.Equal("pt", saved.Metadata["format"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheInferredSequentialMapNumbersEveryLayer()
    {
        IReadOnlyDictionary<string, string> names = TorchWeights.TorchNames(new TorchCnn());
        Assert.Equal("0.weight", names["conv0.weight"]);
        Assert.Equal("1.weight", names["bn0.gamma"]);
        Assert.Equal("1.running_var", names["bn0.running_var"]);
        Assert.Equal("4.bias", names["conv1.bias"]);
        Assert.Equal("5.weight", names["prelu0.alpha"]);
        Assert.Equal("7.weight", names["dense0.weight"]);
        Assert.Equal("9.bias", names["dense1.bias"]);

        // A residual block is one module: its layers in "branch", its projection in "projection".
        IReadOnlyDictionary<string, string> residual = TorchWeights.TorchNames(new TorchResNet());
        Assert.Equal("3.projection.weight", residual["residual0.projection"]);
        Assert.Equal("3.branch.0.weight", residual["conv1.weight"]);
        Assert.Equal("3.branch.1.running_mean", residual["bn1.running_mean"]);
        Assert.Equal("3.branch.3.bias", residual["conv2.bias"]);
        Assert.Equal("5.branch.0.weight", residual["conv3.weight"]);
    }

    [Fact]
    public void AFailedLoadNamesTheTensorAndLeavesTheModelUnchanged()
    {
        var model = new TorchMlp();
        TestSupport.Train(model, steps: 2);
        float[][] before = model.Tensors.Select(t => model.TensorData(t).ToArray()).ToArray();
        void Unchanged()
        {
            for (int i = 0; i < before.Length; i++) Assert.True(before[i].AsSpan().SequenceEqual(model.TensorData(model.Tensors[i])));
        }

        // Wrong shape: dense1 mapped onto the first Linear (16×12 instead of 3×16).
        var wrongShape = new Dictionary<string, string> { ["dense0"] = "0", ["bn0"] = "1", ["dense1"] = "0" };
        var duplicate = Assert.Throws<ArgumentException>(() => TorchWeights.Load(model, Fixture("mlp.safetensors"), wrongShape));
        Assert.Contains("0.weight", duplicate.Message);
        Unchanged();
        wrongShape = new Dictionary<string, string> { ["dense0"] = "0", ["bn0"] = "1", ["dense1"] = "4_missing" };
        var missing = Assert.Throws<CheckpointException>(() => TorchWeights.Load(model, Fixture("mlp.safetensors"), wrongShape));
        Assert.Equal("4_missing.weight", missing.TensorName);
        Assert.Contains("dense1.weight", missing.Message);
        Unchanged();

        // Another model's file: the first tensor that does not fit is named with both shapes.
        var shape = Assert.Throws<CheckpointException>(() => TorchWeights.Load(model, Fixture("cnn.safetensors")));
        Assert.Equal("0.weight", shape.TensorName);
        Assert.Contains("[4, 2, 3, 3]", shape.Message);
        Assert.Contains("[16, 12]", shape.Message);
        Unchanged();

        // A file with tensors the model has no use for fails when strict.
        var cnn = new TorchCnn();
        string path = Path.Combine(Path.GetTempPath(), $"kiln-torch-{Guid.NewGuid():N}.safetensors");
        try
        {
            TorchWeights.Save(cnn, path);
            var extra = new Dictionary<string, string> { ["conv0"] = "0", ["bn0"] = "1", ["conv1"] = "4", ["prelu0"] = "5", ["dense0"] = "7", ["dense1"] = "9" };
            TorchWeights.Load(new TorchCnn(), path, extra); // the full map loads
            extra.Remove("prelu0");
            Assert.Throws<ArgumentException>(() => TorchWeights.Load(new TorchCnn(), path, extra)); // a layer with tensors left unmapped
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnexpectedTensorsFailWhenStrict()
    {
        // The MLP's state_dict read by a model that only has its first Linear and BatchNorm (mapped explicitly) leaves "4.*" unused.
        var model = new TorchMlp();
        var partial = new Dictionary<string, string> { ["dense0"] = "0", ["bn0"] = "1", ["dense1"] = "4" };
        TorchWeights.Load(model, Fixture("mlp.safetensors"), partial); // every tensor used: fine
        var io = Assert.Throws<CheckpointException>(() => TorchWeights.Load(model, Fixture("mlp.io.safetensors")));
        Assert.Equal("0.weight", io.TensorName); // the batch file has no weights
    }
}
