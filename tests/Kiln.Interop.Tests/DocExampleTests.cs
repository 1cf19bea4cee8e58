using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using InteropExamples;
using Kiln.Checkpoints;
using Xunit;

namespace Kiln.Interop.Tests;

/// <summary>docs/interop.md's C# blocks are the files in DocExamples/ (compiled here) and run.</summary>
public sealed class DocExampleTests
{
    private static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{Path.Combine(parts)} not found above {AppContext.BaseDirectory}.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();

    [Fact]
    public void TheDocsCSharpBlocksAreTheCompiledExamples()
    {
        string doc = File.ReadAllText(RepoFile("docs", "interop.md"));
        string[] blocks = Regex.Matches(doc, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => Normalize(m.Groups[1].Value)).ToArray();
        string[] files = ["OnnxExample.cs", "TorchExample.cs"];
        Assert.Equal(files.Length, blocks.Length);
        for (int i = 0; i < files.Length; i++)
            Assert.Equal(Normalize(File.ReadAllText(RepoFile("tests", "Kiln.Interop.Tests", "DocExamples", files[i]))), blocks[i]);
    }

    [Fact]
    public void TheOnnxExampleRunsAndMatchesPredict()
    {
        string path = Path.Combine(Path.GetTempPath(), $"kiln-doc-{Guid.NewGuid():N}.onnx");
        try
        {
            double diff = OnnxExample.Run(path);
            Assert.True(diff <= 1e-5, $"ONNX Runtime differs from Predict by {diff:E3}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheTorchExampleRoundTripsTheFixture()
    {
        string saved = Path.Combine(Path.GetTempPath(), $"kiln-doc-{Guid.NewGuid():N}.safetensors");
        try
        {
            TorchExample.RoundTrip(TorchWeightsTests.Fixture("smallconv.safetensors"), saved);
            CheckpointFile original = Checkpoint.Read(TorchWeightsTests.Fixture("smallconv.safetensors")), back = Checkpoint.Read(saved);
            foreach (CheckpointTensor t in original.Tensors.Where(t => t.DType == "F32"))
                Assert.True(t.Data.Span.SequenceEqual(back.Find(t.Name)!.Data.Span), t.Name);

            // And the loaded model predicts as PyTorch did.
            var model = new SmallConv();
            TorchWeights.Load(model, TorchWeightsTests.Fixture("smallconv.safetensors"));
            CheckpointFile io = Checkpoint.Read(TorchWeightsTests.Fixture("smallconv.io.safetensors"));
            float[] x = io.Find("input")!.ToFloatArray(), expected = io.Find("output")!.ToFloatArray();
            var actual = new float[expected.Length];
            model.Predict(x, actual, x.Length / SmallConv.InputSize);
            Assert.True(expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() <= 1e-5);

            // KILN_TORCH_CHECK_DIR=DIR also keeps a Kiln checkpoint of the CNN fixture for the numpy reader of docs/interop.md.
            if (Environment.GetEnvironmentVariable("KILN_TORCH_CHECK_DIR") is { Length: > 0 } keep)
            {
                var cnn = new TorchCnn();
                TorchWeights.Load(cnn, TorchWeightsTests.Fixture("cnn.safetensors"));
                Checkpoint.Save(cnn, Path.Combine(keep, "cnn.kiln.safetensors"));
            }
        }
        finally
        {
            File.Delete(saved);
        }
    }
}
