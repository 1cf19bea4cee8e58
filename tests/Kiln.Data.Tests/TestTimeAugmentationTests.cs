using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Augmentation;
using Kiln.Schedules;

namespace Kiln.Data.Tests;

// A real generated model on 1×8×8 digits-sized images.
[Model(Input = 64, MaxBatch = 8, Seed = 7)]
[Dense(32), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class TinyDigitsNet;

public class TestTimeAugmentationTests
{
    /// <summary>
    /// A model whose output is known: [v, 1 − v] with v the centre pixel of a 1×3×3 image. It records the batch sizes it saw.
    /// Everything else of IKilnModel is out of scope here.
    /// </summary>
    private sealed class CentrePixelModel(int maxBatch) : IKilnModel
    {
        public List<int> Batches { get; } = [];
        public string ModelName => "CentrePixelModel";
        public int InputSize => 9;
        public int OutputSize => 2;
        public int MaxBatch { get; } = maxBatch;
        public LossKind Loss => LossKind.SoftmaxCrossEntropy;
        public IsaPath Isa { get; set; }
        public float LearningRate { get; set; }
        public long Step => 0;
        public float BaseLearningRate => 0;
        public int OptimizerStateCount => 0;
        public float GradientNorm => float.NaN;
        public IReadOnlyList<TensorInfo> Tensors => [];

        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
        {
            if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch));
            Batches.Add(batch);
            for (int r = 0; r < batch; r++)
            {
                float v = inputs[r * 9 + 4];
                outputs[r * 2] = v;
                outputs[r * 2 + 1] = 1 - v;
            }
        }

        public void RestoreStep(long step) => throw new NotSupportedException();
        public LearningRateSchedule CreateSchedule() => throw new NotSupportedException();
        public void SetLearningRateScale(string layer, float scale) => throw new NotSupportedException();
        public float GetLearningRateScale(string layer) => throw new NotSupportedException();
        public Span<float> TensorState(TensorInfo tensor, int slot) => throw new NotSupportedException();
        public Span<float> TensorData(TensorInfo tensor) => throw new NotSupportedException();
        public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => throw new NotSupportedException();
        public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => throw new NotSupportedException();
        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => throw new NotSupportedException();
        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => throw new NotSupportedException();
        public Span<float> TensorGradient(TensorInfo tensor) => throw new NotSupportedException();
        public ReadOnlySpan<float> LayerOutput(string layer) => throw new NotSupportedException();
        public void ResetNoise(ulong seed) { }
        public void GetNoiseState(Span<ulong> state) => state.Fill(1);
        public void SetNoiseState(ReadOnlySpan<ulong> state) { }
        public void InitializeParameters() { }
        public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count) => throw new NotSupportedException();
        public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) => throw new NotSupportedException();
    }

    private static readonly ImageShape Small = new(1, 3, 3);

    // Corners 0.1 (top-left), 0.2 (top-right), 0.3 (bottom-left), 0.4 (bottom-right), centre 0.5, the rest 0.
    private static readonly float[] Image = [0.1f, 0, 0.2f, 0, 0.5f, 0, 0.3f, 0, 0.4f];

    [Fact]
    public void Averages_the_known_outputs_of_every_view()
    {
        var model = new CentrePixelModel(maxBatch: 4);
        var outputs = new float[2];

        // Identity + flip: both see the centre 0.5.
        TestTimeAugmentation.Predict(model, Image, outputs, 1, Small, flip: true, shift: 0);
        Assert.Equal([0.5f, 0.5f], outputs);

        // Shift 1 without flips: the centre of the four corner crops is each corner once → (0.5 + 0.1 + 0.2 + 0.3 + 0.4) / 5.
        TestTimeAugmentation.Predict(model, Image, outputs, 1, Small, flip: false, shift: 1);
        Assert.Equal(0.3f, outputs[0], 1e-6);
        Assert.Equal(0.7f, outputs[1], 1e-6);

        // Ten views: the flips see the mirrored corners, again each once.
        Assert.Equal(10, TestTimeAugmentation.ViewCount(true, 1));
        TestTimeAugmentation.Predict(model, Image, outputs, 1, Small, flip: true, shift: 1);
        Assert.Equal(0.3f, outputs[0], 1e-6);

        // Shift 2 moves every corner crop past the centre pixel: only the identity and flip see 0.5 → 2·0.5/10.
        TestTimeAugmentation.Predict(model, Image, outputs, 1, Small, flip: true, shift: 2);
        Assert.Equal(0.1f, outputs[0], 1e-6);
    }

    [Fact]
    public void Large_batches_run_in_chunks_and_each_sample_keeps_its_own_prediction()
    {
        var model = new CentrePixelModel(maxBatch: 4);
        const int batch = 10;
        var inputs = new float[batch * 9];
        for (int s = 0; s < batch; s++) inputs[s * 9 + 4] = s / 10f;   // only the centre is set
        var outputs = new float[batch * 2];
        TestTimeAugmentation.Predict(model, inputs, outputs, batch, Small, flip: true, shift: 1);
        for (int s = 0; s < batch; s++) Assert.Equal(s / 10f * 2 / 10, outputs[s * 2], 1e-6);   // 2 of 10 views see the centre
        Assert.Equal(Enumerable.Repeat(4, 10).Concat(Enumerable.Repeat(4, 10)).Concat(Enumerable.Repeat(2, 10)), model.Batches);

        model.Batches.Clear();   // keeps its capacity, so the log does not allocate either
        long before = GC.GetAllocatedBytesForCurrentThread();
        TestTimeAugmentation.Predict(model, inputs, outputs, batch, Small, flip: true, shift: 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Throws<ArgumentException>(() => TestTimeAugmentation.Predict(model, inputs, outputs, batch, new ImageShape(1, 2, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TestTimeAugmentation.Predict(model, inputs, outputs, batch, Small, shift: 3));
    }

    [Fact]
    public void A_generated_model_gives_probability_distributions_that_differ_from_plain_predict()
    {
        var model = new TinyDigitsNet();
        var shape = new ImageShape(1, 8, 8);
        Dataset digits = EmbeddedData.Digits().Subset(0, 20);
        var outputs = new float[20 * 10];
        TestTimeAugmentation.Predict(model, digits.Features, outputs, 20, shape);
        var plain = new float[20 * 10];
        for (int r = 0; r < 20; r += 8)
        {
            int m = Math.Min(8, 20 - r);
            model.Predict(digits.Features.AsSpan(r * 64, m * 64), plain.AsSpan(r * 10, m * 10), m);
        }
        for (int s = 0; s < 20; s++)
        {
            Assert.All(outputs.Skip(s * 10).Take(10), p => Assert.InRange(p, 0f, 1f));
            Assert.Equal(1, outputs.Skip(s * 10).Take(10).Sum(), 1e-5);
        }
        Assert.NotEqual(plain, outputs);
        // With neither flips nor shifts it is plain Predict.
        TestTimeAugmentation.Predict(model, digits.Features, outputs, 20, shape, flip: false, shift: 0);
        Assert.Equal(plain, outputs);
    }
}
