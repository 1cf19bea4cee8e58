using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// Convolutions that train by Winograd (forward and dL/dx; the gradients themselves are checked against finite differences
/// in <see cref="GradientCheckTests"/> on WinogradCnn and WinogradTrainingCnn): the loss of a small run falls, and the
/// generated model keeps no whole-batch patch buffer for them.
/// </summary>
public sealed class WinogradTrainingTests
{
    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Loss_falls_when_training_by_Winograd(IsaPath path)
    {
        ModelCase c = ModelCases.Get("WinogradTrainingCnn");
        var model = new WinogradTrainingCnn(path);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 8, seed: 4);
        float first = model.TrainStep(x, labels, 8), last = first;
        for (int i = 0; i < 60; i++) last = model.TrainStep(x, labels, 8);
        Assert.True(float.IsFinite(last) && last < 0.5f * first, $"{path}: loss {first} → {last} after 60 steps on one batch");
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Large_batch_inference_by_Winograd_equals_batch_1(IsaPath path)
    {
        // Above SmallBatch (16) conv1 of the benchmark CNN now takes Winograd sample by sample instead of im2col + GEMM;
        // batch 1 takes the small-batch tile route (checked against the eval-mode reference on WinogradCnn).
        var model = new BenchmarkCnn(path);
        var rng = new KilnRandom(6);
        const int batch = 20;
        var x = new float[batch * BenchmarkCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() - 0.5f;
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(10);
        for (int s = 0; s < 3; s++) model.TrainStep(x, labels, batch);
        var all = new float[batch * 10];
        model.Predict(x, all, batch);
        var one = new float[10];
        for (int r = 0; r < batch; r++)
        {
            model.Predict(x.AsSpan(r * BenchmarkCnn.InputSize, BenchmarkCnn.InputSize), one, 1);
            for (int j = 0; j < 10; j++)
                Assert.True(Math.Abs(one[j] - all[r * 10 + j]) <= 1e-5f, $"{path}: row {r}, class {j}: batch 1 gave {one[j]}, batch {batch} gave {all[r * 10 + j]}");
        }
    }

    [Fact]
    public void Winograd_trained_convolutions_keep_no_patch_gradient_buffer()
    {
        // dL/d(patches) (_dcol, MaxBatch × pixels × patch size) exists only for convolutions whose dL/dx goes through col2im.
        string[] fields = typeof(WinogradTrainingCnn).GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
            .Select(f => f.Name).ToArray();
        Assert.DoesNotContain("_dcol", fields);
        Assert.Contains("_winogradBackward2", fields);
        Assert.Contains("_patches0", fields);
    }
}
