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
