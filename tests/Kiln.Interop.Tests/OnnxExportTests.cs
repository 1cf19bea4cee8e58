using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Interop;
using Kiln.Models.Tests;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Interop.Tests;

/// <summary>Every model case of the model and generator tests, exported to ONNX and run in ONNX Runtime against Predict.</summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    /// <summary>Max |ONNX Runtime − Predict| allowed, relative to the output scale max(1, max |Predict|).</summary>
    private const double Tolerance = 1e-5;

    public static readonly (string Name, Func<IKilnModel> Create)[] Cases =
    [
        // tests/Kiln.Models.Tests (ModelCases and the other model tests)
        ("BnReluDropoutNet", () => new BnReluDropoutNet()), ("SigmoidNet", () => new SigmoidNet()), ("TanhNet", () => new TanhNet()),
        ("ReluNet", () => new ReluNet()), ("LeakyReluNet", () => new LeakyReluNet()), ("PReluNet", () => new PReluNet()),
        ("EluNet", () => new EluNet()), ("SeluNet", () => new SeluNet()), ("SwishNet", () => new SwishNet()), ("GeluNet", () => new GeluNet()),
        ("BnGeluPReluNet", () => new BnGeluPReluNet()), ("HingeNet", () => new HingeNet()), ("BinaryNet", () => new BinaryNet()),
        ("RegressionNet", () => new RegressionNet()), ("SoftmaxLayerNet", () => new SoftmaxLayerNet()), ("BenchmarkMlp", () => new BenchmarkMlp()),
        ("DigitsNet", () => new DigitsNet()), ("NesterovPenaltyNet", () => new NesterovPenaltyNet()), ("AdaGradElasticNet", () => new AdaGradElasticNet()),
        ("RmsPropClipNet", () => new RmsPropClipNet()), ("AdamWNet", () => new AdamWNet()), ("VelocityNet", () => new VelocityNet()),
        ("SmallCnn", () => new SmallCnn()), ("DilatedCnn", () => new DilatedCnn()), ("PoolFirstCnn", () => new PoolFirstCnn()),
        ("WideCnn", () => new WideCnn()), ("WinogradCnn", () => new WinogradCnn()), ("OnePixelCnn", () => new OnePixelCnn()),
        ("BenchmarkCnn", () => new BenchmarkCnn()), ("NormCnn", () => new NormCnn()), ("MaxoutCnn", () => new MaxoutCnn()),
        ("DropConnectCnn", () => new DropConnectCnn()), ("ResidualCnn", () => new ResidualCnn()), ("StochasticDepthCnn", () => new StochasticDepthCnn()),
        ("FractionalPoolCnn", () => new FractionalPoolCnn()), ("ProjectionCnn", () => new ProjectionCnn()),
        ("ProjectionMixedCnn", () => new ProjectionMixedCnn()), ("WideProjectionCnn", () => new WideProjectionCnn()), ("WideBatchCnn", () => new WideBatchCnn()),
        ("PerFeatureNormalizedNet", () => new PerFeatureNormalizedNet()), ("PerChannelNormalizedNet", () => new PerChannelNormalizedNet()),
        ("ConvPerChannelNet", () => new ConvPerChannelNet()), ("ConvPerFeatureNet", () => new ConvPerFeatureNet()),
        // tests/Kiln.Generator.Tests snapshot models
        ("DigitsMlp", () => new DigitsMlp()), ("PReluBinary", () => new PReluBinary()), ("SeluRegression", () => new SeluRegression()),
        ("HingeNoBias", () => new HingeNoBias()), ("SwishInner", () => new SwishInner()), ("ActivationZoo", () => new ActivationZoo()),
        ("SpatialZoo", () => new SpatialZoo()), ("ResidualNet", () => new ResidualNet()), ("ProjectionNet", () => new ProjectionNet()),
        ("FixupOnnxNet", () => new FixupOnnxNet()),
        // the PyTorch fixture mirrors
        ("TorchMlp", () => new TorchMlp()), ("TorchCnn", () => new TorchCnn()), ("TorchResNet", () => new TorchResNet()),
    ];

    public static IEnumerable<object[]> CaseNames => Cases.Select(c => new object[] { c.Name });

    private static IKilnModel Create(string name) => Cases.Single(c => c.Name == name).Create();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ExportMatchesPredictInOnnxRuntime(string name)
    {
        IKilnModel model = Create(name);
        TestSupport.Train(model, steps: 4);
        foreach (bool fold in new[] { true, false })
        {
            var options = new OnnxExportOptions { FoldBatchNorm = fold };
            double diff = TestSupport.CompareWithOnnxRuntime(model, options, out double scale);
            output.WriteLine($"{name} (BatchNorm {(fold ? "folded" : "as BatchNormalization")}): max |ORT − Predict| = {diff:E2} (output scale {scale:G3})");
            Assert.True(diff <= Tolerance * scale, $"{name}: ONNX Runtime differs from Predict by {diff:E3} (scale {scale}), fold {fold}");
        }
    }

    [Theory]
    [InlineData("SpatialZoo")]
    [InlineData("NormCnn")]
    [InlineData("MaxoutCnn")]
    [InlineData("ResidualNet")]
    [InlineData("ConvPerChannelNet")]
    public void EveryOpsetAndTheNchwInputMatch(string name)
    {
        IKilnModel model = Create(name);
        TestSupport.Train(model, steps: 3);
        foreach (int opset in new[] { OnnxExportOptions.MinOpset, 17, 18, OnnxExportOptions.MaxOpset })
            foreach (OnnxInputLayout layout in new[] { OnnxInputLayout.Flat, OnnxInputLayout.Nchw })
            {
                var options = new OnnxExportOptions { Opset = opset, InputLayout = layout, InputName = "pixels", OutputName = "scores" };
                double diff = TestSupport.CompareWithOnnxRuntime(model, options, out double scale);
                Assert.True(diff <= Tolerance * scale, $"{name} opset {opset} {layout}: {diff:E3}");
            }
    }

    [Fact]
    public void TheFileHasNamedInputsADynamicBatchAndKilnMetadata()
    {
        var model = new TorchCnn();
        TestSupport.Train(model, steps: 5);
        string path = Path.Combine(Path.GetTempPath(), $"kiln-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            var options = new OnnxExportOptions { InputName = "image", OutputName = "probabilities", InputLayout = OnnxInputLayout.Nchw, ModelVersion = 3 };
            options.Metadata["dataset"] = "fixture";
            OnnxExport.Save(model, path, options);
            using var session = new InferenceSession(path);
            Assert.Equal("image", session.InputMetadata.Keys.Single());
            Assert.Equal(new[] { -1, 2, 8, 8 }, session.InputMetadata["image"].Dimensions);
            Assert.Equal("batch", session.InputMetadata["image"].SymbolicDimensions[0]);
            Assert.Equal(new[] { -1, 3 }, session.OutputMetadata["probabilities"].Dimensions);
            ModelMetadata meta = session.ModelMetadata;
            Assert.Equal("Kiln", meta.ProducerName);
            Assert.Equal(3, meta.Version);
            Assert.Equal("TorchCnn", meta.CustomMetadataMap["kiln_model"]);
            Assert.Equal("5", meta.CustomMetadataMap["kiln_step"]);
            Assert.Equal("probabilities", meta.CustomMetadataMap["kiln_output"]);
            Assert.Equal("fixture", meta.CustomMetadataMap["dataset"]);
            Assert.False(string.IsNullOrEmpty(meta.CustomMetadataMap["kiln_version"]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadOptionsGetClearErrors()
    {
        var model = new ReluNet();
        var opset = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExport.ToBytes(model, new OnnxExportOptions { Opset = 9 }));
        Assert.Contains("Opset 9", opset.Message);
        var nchw = Assert.Throws<OnnxExportException>(() => OnnxExport.ToBytes(model, new OnnxExportOptions { InputLayout = OnnxInputLayout.Nchw }));
        Assert.Contains("flat input", nchw.Message);
        var reserved = new OnnxExportOptions();
        reserved.Metadata["kiln_model"] = "x";
        Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(model, reserved));
        Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(model, new OnnxExportOptions { InputName = "x", OutputName = "x" }));
    }

    [Fact]
    public void AModelWithoutAnArchitectureIsRefusedByName()
    {
        var wrapped = new ArchitectureOverride(new ReluNet(), null);
        var error = Assert.Throws<OnnxExportException>(() => OnnxExport.ToBytes(wrapped));
        Assert.Contains("ReluNet has no architecture description", error.Message);
        Assert.Null(error.Layer);
        Assert.Throws<NotSupportedException>(() => TorchWeights.Save(wrapped, Path.Combine(Path.GetTempPath(), "unused.safetensors")));
    }

    [Fact]
    public void ALayerThatCannotBeExpressedIsNamed()
    {
        // A Softmax in the middle of a network has no single ONNX form in this exporter: the error names the layer.
        var model = new SoftmaxLayerNet();
        var architecture = model.Architecture!;
        var moved = architecture with { Layers = [architecture.Layers[^1], .. architecture.Layers.Take(architecture.Layers.Count - 1)] };
        var wrapped = new ArchitectureOverride(model, moved);
        var error = Assert.Throws<OnnxExportException>(() => OnnxExport.ToBytes(wrapped));
        string softmax = architecture.Layers[^1].Name;
        Assert.Equal(ArchitectureLayerKind.Activation, architecture.Layers[^1].Kind);
        Assert.Equal(softmax, error.Layer);
        Assert.Contains($"Layer {softmax}", error.Message);
    }
}
