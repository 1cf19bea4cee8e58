using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Kiln.Data;
using Xunit;

namespace Kiln.Checkpoints.Tests;

public class FormatTests
{
    private static Net Trained(int steps = 6)
    {
        var net = new Net();
        Support.Train(net, 0, steps);
        return net;
    }

    [Fact]
    public void RoundTripRestoresEveryTensorOptimizerStateStepAndLearningRate()
    {
        using var dir = new TempDirectory();
        Net net = Trained();
        net.LearningRate = 3.7e-4f;
        net.SetLearningRateScale("bn0", 0.25f);
        net.SetLearningRateScale("dense1", 0f);
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path);

        var fresh = new Net();
        Checkpoint.Load(fresh, path);
        Support.AssertSame(Support.Snapshot(net), Support.Snapshot(fresh));
        Assert.Equal(Support.PredictBits(net), Support.PredictBits(fresh));
        Assert.Equal(6, fresh.Step);
        Assert.Equal(0.25f, fresh.GetLearningRateScale("bn0"));
    }

    [Fact]
    public void IndependentReaderSeesSafetensorsLayoutNamesOrderAndLittleEndianData()
    {
        using var dir = new TempDirectory();
        Net net = Trained();
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path);

        RawSafetensors.RawFile raw = RawSafetensors.Read(path);
        Assert.Equal(0UL, raw.HeaderLength % 8); // data section 8-byte aligned
        var expectedNames = new List<string>();
        foreach (TensorInfo t in net.Tensors) expectedNames.Add(t.Name);
        foreach (TensorInfo t in net.Tensors)
            if (t.Trainable) { expectedNames.Add(t.Name + ".optimizer_state0"); expectedNames.Add(t.Name + ".optimizer_state1"); }
        Assert.Equal(expectedNames, raw.Tensors.Select(t => t.Name).ToList());
        Assert.StartsWith("{\"__metadata__\"", raw.HeaderJson, StringComparison.Ordinal);

        long expectedBegin = 0;
        foreach (RawSafetensors.RawTensor r in raw.Tensors)
        {
            Assert.Equal("F32", r.DType);
            Assert.Equal(expectedBegin, r.Begin);
            expectedBegin = r.End;
            TensorInfo t = net.Tensors.Single(x => r.Name == x.Name || r.Name.StartsWith(x.Name + ".optimizer_state", StringComparison.Ordinal));
            Assert.Equal(t.Shape, r.Shape);
            ReadOnlySpan<float> values = r.Name == t.Name ? net.TensorData(t) : net.TensorState(t, r.Name[^1] - '0');
            Assert.Equal(values.ToArray(), r.Floats());
        }
        Assert.Equal(new FileInfo(path).Length, 8 + (long)raw.HeaderLength + expectedBegin);

        Assert.Equal("Net", raw.Metadata["kiln_model"]);
        Assert.Equal("1", raw.Metadata["kiln_format_version"]);
        Assert.Equal("6", raw.Metadata["step"]);
        Assert.Equal(net.Isa.ToString(), raw.Metadata["isa"]);
        Assert.Equal("2", raw.Metadata["optimizer_state_count"]);
        Assert.Equal(net.LearningRate, float.Parse(raw.Metadata["learning_rate"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void PythonStandardLibraryReadsTheFile()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) return; // optional cross-check
        using var dir = new TempDirectory();
        Net net = Trained();
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path, new CheckpointMetadata { Seed = 42 });
        string script = dir.File("read.py");
        File.WriteAllText(script, """
            import json, struct, sys
            with open(sys.argv[1], 'rb') as f:
                data = f.read()
            (n,) = struct.unpack('<Q', data[:8])
            header = json.loads(data[8:8 + n].decode('utf-8'))
            meta = header.pop('__metadata__')
            body = data[8 + n:]
            print('model', meta['kiln_model'], meta['seed'])
            for name, e in header.items():
                b, end = e['data_offsets']
                count = (end - b) // 4
                values = struct.unpack('<%df' % count, body[b:end])
                print(name, e['dtype'], 'x'.join(map(str, e['shape'])), repr(sum(values)))
            """);
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(path);
        using Process process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("model Net 42", lines[0]);
        Assert.Equal(8 + 12, lines.Length - 1); // 8 tensors + 6 trainable × 2 state slots
        foreach (TensorInfo t in net.Tensors)
        {
            string line = lines.Single(l => l.StartsWith(t.Name + " ", StringComparison.Ordinal));
            string[] parts = line.Split(' ');
            Assert.Equal("F32", parts[1]);
            Assert.Equal(string.Join("x", t.Shape), parts[2]);
            double sum = 0;
            foreach (float v in net.TensorData(t)) sum += v; // Python sums doubles left to right, as here
            Assert.Equal(sum, double.Parse(parts[3], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void MetadataRoundTripsStandardizerSeedsAndUserEntries()
    {
        using var dir = new TempDirectory();
        Net net = Trained(2);
        var standardizer = new Standardizer { Mean = Enumerable.Range(0, 19).Select(i => i * 0.5f).ToArray(), Std = Enumerable.Range(1, 19).Select(i => i * 0.25f).ToArray() };
        var extra = new CheckpointMetadata { Standardizer = standardizer, Seed = 12345678901234567890UL, NoiseSeed = 77 };
        extra.Entries["epoch"] = "3";
        extra.Entries["note"] = "naïve \"quoted\" <text>";
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path, extra);

        CheckpointFile file = Checkpoint.Read(path);
        Assert.Equal("Net", file.ModelName);
        Assert.Equal(1, file.FormatVersion);
        Assert.Equal(2L, file.Step);
        Assert.Equal(12345678901234567890UL, file.Seed);
        Assert.Equal(77UL, file.NoiseSeed);
        Assert.Equal(standardizer.Mean, file.Standardizer!.Mean);
        Assert.Equal(standardizer.Std, file.Standardizer.Std);
        Assert.Equal(new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "naïve \"quoted\" <text>" }, file.UserEntries);
        Assert.Equal(net.Tensors.Count + 12, file.Tensors.Count);
        Assert.Equal(net.TensorData(net.Tensors[0]).ToArray(), file.Find("dense0.weight")!.ToFloatArray());

        CheckpointFile loaded = Checkpoint.Load(new Net(), path);
        Assert.Equal(standardizer.Std, loaded.Standardizer!.Std);
    }

    [Fact]
    public void ReservedMetadataKeysAreRejectedBeforeAnyFileIsWritten()
    {
        using var dir = new TempDirectory();
        var extra = new CheckpointMetadata();
        extra.Entries["step"] = "0";
        string path = dir.File("net.safetensors");
        ArgumentException e = Assert.Throws<ArgumentException>(() => Checkpoint.Save(new Net(), path, extra));
        Assert.Contains("'step'", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void LearningRateThatAScheduleDroveToZeroRoundTrips()
    {
        using var dir = new TempDirectory();
        Net net = Trained(2);
        net.LearningRate = 0f;
        string path = dir.File("zero.safetensors");
        Checkpoint.Save(net, path);
        var fresh = new Net();
        Checkpoint.Load(fresh, path);
        Assert.Equal(0f, fresh.LearningRate);
    }

    [Fact]
    public void ModelWithoutOptimizerStateRoundTrips()
    {
        using var dir = new TempDirectory();
        var net = new SgdNet();
        Support.Train(net, 0, 4);
        string path = dir.File("sgd.safetensors");
        Checkpoint.Save(net, path);
        Assert.Equal(net.Tensors.Count, Checkpoint.Read(path).Tensors.Count);
        var fresh = new SgdNet();
        Checkpoint.Load(fresh, path);
        Support.AssertSame(Support.Snapshot(net), Support.Snapshot(fresh));
    }

    [Fact]
    public void WriteToStreamProducesTheSameBytesAsSave()
    {
        using var dir = new TempDirectory();
        Net net = Trained(3);
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path);
        using var stream = new MemoryStream();
        Checkpoint.Write(net, stream);
        Assert.Equal(File.ReadAllBytes(path), stream.ToArray());
    }
}
