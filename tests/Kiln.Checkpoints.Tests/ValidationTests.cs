using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace Kiln.Checkpoints.Tests;

/// <summary>Broken or mismatched files throw a clear CheckpointException and leave the model bit for bit unchanged.</summary>
public partial class ValidationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _good;
    private readonly RawSafetensors.RawFile _raw;

    public ValidationTests()
    {
        var source = new Net();
        Support.Train(source, 0, 5);
        _good = _dir.File("good.safetensors");
        Checkpoint.Save(source, _good);
        _raw = RawSafetensors.Read(_good);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>A model in a different state from the file, so any partial write would show.</summary>
    private static Net Target()
    {
        var net = new Net();
        Support.Train(net, 100, 102);
        return net;
    }

    private static CheckpointException AssertRejected(IKilnModel model, string path, CheckpointLoadOptions? options = null, params string[] fragments)
    {
        Dictionary<string, int[]> before = Support.Snapshot(model);
        int[] predictions = Support.PredictBits(model);
        CheckpointException e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(model, path, options));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        foreach (string fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Support.AssertSame(before, Support.Snapshot(model));
        Assert.Equal(predictions, Support.PredictBits(model));
        return e;
    }

    private string Variant(string name, Func<List<RawSafetensors.RawTensor>, List<RawSafetensors.RawTensor>>? tensors = null,
        Action<Dictionary<string, string>>? metadata = null, Func<string, string>? header = null, Func<byte[], byte[]>? file = null)
    {
        string path = _dir.File(name);
        var meta = new Dictionary<string, string>(_raw.Metadata);
        metadata?.Invoke(meta);
        List<RawSafetensors.RawTensor> list = tensors is null ? _raw.Tensors : tensors(new List<RawSafetensors.RawTensor>(_raw.Tensors));
        RawSafetensors.Write(path, meta, list, header, file);
        return path;
    }

    [Fact]
    public void TheUnmodifiedRewriteLoads()
    {
        // Guards the other tests: the test writer reproduces a loadable file.
        Net net = Target();
        Checkpoint.Load(net, Variant("same.safetensors"));
        Assert.Equal(5, net.Step);
    }

    [Fact]
    public void WrongShape()
    {
        string path = Variant("shape.safetensors", ts => ts.Select(t => t.Name == "dense0.weight" ? t with { Shape = new[] { 37, 19 } } : t).ToList());
        CheckpointException e = AssertRejected(Target(), path, null, "dense0.weight", "expected shape [19, 37]", "found [37, 19]");
        Assert.Equal("dense0.weight", e.TensorName);
    }

    [Fact]
    public void WrongShapeOfOptimizerState()
    {
        string path = Variant("stateshape.safetensors", ts => ts.Select(t => t.Name == "dense1.bias.optimizer_state1" ? t with { Shape = new[] { 1, 5 } } : t).ToList());
        AssertRejected(Target(), path, null, "dense1.bias.optimizer_state1", "expected shape [5]", "found [1, 5]");
    }

    [Fact]
    public void MissingTensor()
    {
        string path = Variant("missing.safetensors", ts => ts.Where(t => t.Name != "bn0.running_var").ToList());
        AssertRejected(Target(), path, null, "bn0.running_var", "missing", "shape [37]");
    }

    [Fact]
    public void WrongDtype()
    {
        // F64 with the right shape: a well-formed file, but not what the model stores.
        string path = Variant("dtype.safetensors", ts => ts.Select(t => t.Name == "dense1.bias" ? t with { DType = "F64", Bytes = new byte[5 * 8] } : t).ToList());
        Assert.NotNull(Checkpoint.Read(path)); // structurally valid
        AssertRejected(Target(), path, null, "dense1.bias", "expected dtype F32, found F64");
    }

    [Fact]
    public void UnknownDtype()
    {
        string path = Variant("unknown.safetensors", ts => ts.Select(t => t.Name == "dense1.bias" ? t with { DType = "F31" } : t).ToList());
        AssertRejected(Target(), path, null, "dense1.bias", "unknown dtype 'F31'");
    }

    [Fact]
    public void TruncatedData()
    {
        string path = _dir.File("truncated.safetensors");
        byte[] bytes = File.ReadAllBytes(_good);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 10).ToArray());
        string last = _raw.Tensors[^1].Name;
        AssertRejected(Target(), path, null, last, "truncated");
    }

    [Fact]
    public void TrailingBytes()
    {
        string path = Variant("trailing.safetensors", file: f => f.Concat(new byte[12]).ToArray());
        AssertRejected(Target(), path, null, "trailing bytes");
    }

    [Fact]
    public void BadJson()
    {
        string path = Variant("json.safetensors", header: h => h.Substring(0, h.Length - 1) + ",}");
        AssertRejected(Target(), path, null, "not valid JSON");
    }

    [Fact]
    public void HeaderIsNotAnObject()
    {
        string path = Variant("array.safetensors", header: _ => "[1, 2, 3]");
        AssertRejected(Target(), path, null, "JSON object");
    }

    [Fact]
    public void HeaderLengthBeyondTheFile()
    {
        string path = Variant("length.safetensors", file: f =>
        {
            BinaryPrimitives.WriteUInt64LittleEndian(f, (ulong)f.Length);
            return f;
        });
        AssertRejected(Target(), path, null, "header length", "beyond the end of the file");
        string huge = Variant("huge.safetensors", file: f =>
        {
            BinaryPrimitives.WriteUInt64LittleEndian(f, ulong.MaxValue);
            return f;
        });
        AssertRejected(Target(), huge, null, "beyond the end of the file");
    }

    [Fact]
    public void FileShorterThanTheLengthPrefix()
    {
        string path = _dir.File("tiny.safetensors");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        AssertRejected(Target(), path, null, "shorter than the 8-byte header length");
    }

    [Fact]
    public void OverlappingOffsets()
    {
        // dense0.bias claims the first 148 bytes of dense0.weight's data.
        string path = Variant("overlap.safetensors", header: h => h.Replace("\"data_offsets\":[2812,2960]", "\"data_offsets\":[0,148]", StringComparison.Ordinal));
        Assert.Contains("[0,148]", File.ReadAllText(path), StringComparison.Ordinal);
        AssertRejected(Target(), path, null, "overlaps");
    }

    [Fact]
    public void OffsetsThatDisagreeWithTheShape()
    {
        string path = Variant("size.safetensors", header: h => h.Replace("\"shape\":[5]", "\"shape\":[6]", StringComparison.Ordinal));
        AssertRejected(Target(), path, null, "span 20 bytes", "needs 24");
    }

    [Fact]
    public void NonStringMetadata()
    {
        string path = Variant("meta.safetensors", header: h => h.Replace("\"step\":\"5\"", "\"step\":5", StringComparison.Ordinal));
        AssertRejected(Target(), path, null, "metadata 'step' should be a string");
    }

    [Fact]
    public void MalformedStepValue()
    {
        string path = Variant("step.safetensors", metadata: m => m["step"] = "five");
        AssertRejected(Target(), path, null, "'step'", "\"five\"");
    }

    [Fact]
    public void MalformedStandardizer()
    {
        string path = Variant("std.safetensors", metadata: m => m["standardizer"] = "{\"mean\": [1, 2]}");
        AssertRejected(Target(), path, null, "standardizer");
    }

    [Theory]
    [InlineData("{\"kind\":\"zca_whiten\",\"epsilon\":0,\"mean\":[0,0],\"eigenvalues\":[1,1],\"matrix\":[1,0,0]}", "'matrix' has 3 values, expected 4")]
    [InlineData("{\"kind\":\"standardize\",\"mean\":[1],\"std\":[-1]}", "'std'[0]")]
    [InlineData("{\"kind\":\"blur\"}", "unknown kind 'blur'")]
    [InlineData("not json", "not valid JSON")]
    public void MalformedPreprocessing(string json, string fragment)
    {
        string path = Variant("pre.safetensors", metadata: m => m["preprocessing"] = json);
        AssertRejected(Target(), path, null, "'preprocessing'", fragment);
    }

    [Fact]
    public void PreprocessingOfTheWrongWidth()
    {
        // Valid JSON, but it produces 2 features and Net takes 19.
        string path = Variant("prewidth.safetensors", metadata: m => m["preprocessing"] = "{\"kind\":\"standardize\",\"mean\":[1,2],\"std\":[1,1]}");
        AssertRejected(Target(), path, null, "produces 2 features", "takes 19");
    }

    [Fact]
    public void LearningRateScaleForAnUnknownLayer()
    {
        string path = Variant("scales.safetensors", metadata: m => m["learning_rate_scales"] = "{\"dense9\": 1}");
        AssertRejected(Target(), path, null, "dense9");
    }

    [Fact]
    public void NegativeLearningRate()
    {
        string path = Variant("lr.safetensors", metadata: m => m["learning_rate"] = "-0.001");
        AssertRejected(Target(), path, null, "'learning_rate'", "-0.001");
    }

    [Fact]
    public void NewerFormatVersion()
    {
        string path = Variant("version.safetensors", metadata: m => m["kiln_format_version"] = "2");
        AssertRejected(Target(), path, null, "format version 2");
    }

    [Fact]
    public void DifferentModelTypeNeedsPermission()
    {
        var twin = new TwinNet();
        AssertRejected(twin, _good, null, "saved from model Net; expected TwinNet");
        Checkpoint.Load(twin, _good, new CheckpointLoadOptions { AllowDifferentModel = true });
        var net = new Net();
        Checkpoint.Load(net, _good);
        Support.AssertSame(Support.Snapshot(net), Support.Snapshot(twin));
    }

    [Fact]
    public void ForeignFileWithoutKilnMetadataNeedsPermission()
    {
        string path = Variant("foreign.safetensors", metadata: m => m.Clear());
        AssertRejected(Target(), path, null, "not a Kiln checkpoint");
        Net net = Target();
        Checkpoint.Load(net, path, new CheckpointLoadOptions { AllowDifferentModel = true });
        Assert.Equal(0, net.Step);
    }

    [Fact]
    public void UnexpectedTensorNeedsPermission()
    {
        var extra = new RawSafetensors.RawTensor("head.weight", "F32", new[] { 2 }, 0, 0, new byte[8]);
        string path = Variant("extra.safetensors", ts => { ts.Add(extra); return ts; });
        AssertRejected(Target(), path, null, "head.weight", "AllowUnexpectedTensors");
        Net net = Target();
        Checkpoint.Load(net, path, new CheckpointLoadOptions { AllowUnexpectedTensors = true });
        Assert.Equal(5, net.Step);
    }

    [Fact]
    public void OptimizerStateMismatchBetweenOptimizers()
    {
        // Adam checkpoint into an SGD model: the state tensors are unexpected.
        var sgd = new SgdNet();
        AssertRejected(sgd, _good, new CheckpointLoadOptions { AllowDifferentModel = true }, "optimizer_state0", "SgdNet does not");

        // SGD checkpoint into an Adam model: the state is missing, unless the caller opts out of restoring it.
        string sgdPath = _dir.File("sgd.safetensors");
        Checkpoint.Save(new SgdNet(), sgdPath);
        AssertRejected(Target(), sgdPath, new CheckpointLoadOptions { AllowDifferentModel = true }, "dense0.weight.optimizer_state0", "missing");
        Net net = Target();
        long step = net.Step;
        Checkpoint.Load(net, sgdPath, new CheckpointLoadOptions { AllowDifferentModel = true, RestoreOptimizerState = false });
        Assert.Equal(step, net.Step);
        Assert.Equal(new SgdNet().TensorData(new SgdNet().Tensors[0]).ToArray(), net.TensorData(net.Tensors[0]).ToArray());
    }

    [Fact]
    public void DuplicateTensorName()
    {
        string path = Variant("dup.safetensors", ts =>
        {
            ts.Add(ts[0]);
            return ts;
        });
        AssertRejected(Target(), path, null, "dense0.weight", "appears twice");
    }

    [Fact]
    public void MissingFileThrowsFileNotFound()
    {
        Net net = Target();
        Dictionary<string, int[]> before = Support.Snapshot(net);
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(net, _dir.File("nope.safetensors")));
        Support.AssertSame(before, Support.Snapshot(net));
    }

    [Fact]
    public void LoadMatchingValidatesTheFileBeforeWriting()
    {
        string path = Variant("json2.safetensors", header: h => h + "x");
        var net = new SevenClassNet();
        Dictionary<string, int[]> before = Support.Snapshot(net);
        Assert.Throws<CheckpointException>(() => Checkpoint.LoadMatching(net, path));
        Support.AssertSame(before, Support.Snapshot(net));
    }

    [Fact]
    public void ErrorMessagesAreReadable()
    {
        string path = Variant("shape2.safetensors", ts => ts.Select(t => t.Name == "bn0.gamma" ? t with { Shape = new[] { 36 }, Bytes = new byte[36 * 4] } : t).ToList());
        CheckpointException e = AssertRejected(Target(), path);
        Assert.Equal($"Checkpoint '{path}', tensor 'bn0.gamma': expected shape [37] (from Net), found [36].", e.Message);
    }
}
