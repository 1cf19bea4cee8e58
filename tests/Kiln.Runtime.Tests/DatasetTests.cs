using System;
using System.Linq;
using Kiln.Data;

namespace Kiln.Runtime.Tests;

public class DatasetTests
{
    /// <summary>Imbalanced labels (class c has 10·(c+1) samples), feature 0 = sample index.</summary>
    internal static Dataset Imbalanced()
    {
        int[] labels = Enumerable.Range(0, 4).SelectMany(c => Enumerable.Repeat(c, 10 * (c + 1))).ToArray();
        float[] features = labels.Select((y, i) => new[] { i, (float)y }).SelectMany(r => r).ToArray();
        return new Dataset(features, labels, 2, name: "toy");
    }

    [Fact]
    public void Embedded_digits_has_the_documented_shape()
    {
        Dataset d = EmbeddedData.Digits();

        Assert.Equal(1797, d.Count);
        Assert.Equal(64, d.FeatureCount);
        Assert.Equal(10, d.ClassCount);
        Assert.Equal(new ImageShape(1, 8, 8), d.Shape);
        Assert.Equal(0f, d.Features.Min());
        Assert.Equal(16f, d.Features.Max());
        Assert.All(d.ClassCounts(), c => Assert.InRange(c, 174, 183));
        Assert.Equal(0, d.Labels[0]);   // first row of the file is a zero
    }

    [Fact]
    public void Digits_split_is_deterministic_and_stratified()
    {
        DataSplit a = EmbeddedData.DigitsSplit();
        DataSplit b = EmbeddedData.DigitsSplit();

        Assert.Equal(1438, a.Train.Count);
        Assert.Equal(359, a.Test.Count);
        Assert.Equal(a.Train.Labels, b.Train.Labels);
        Assert.Equal(a.Test.Features, b.Test.Features);
        int[] all = EmbeddedData.Digits().ClassCounts(), train = a.Train.ClassCounts();
        for (int c = 0; c < 10; c++) Assert.InRange(train[c], Math.Floor(all[c] * 0.8), Math.Ceiling(all[c] * 0.8));
    }

    [Fact]
    public void Stratified_split_keeps_class_shares_and_partitions_samples()
    {
        Dataset d = Imbalanced();   // 10, 20, 30, 40 per class

        DataSplit s = d.Split(0.7, seed: 3);

        Assert.Equal(70, s.Train.Count);
        Assert.Equal(30, s.Test.Count);
        Assert.Equal([7, 14, 21, 28], s.Train.ClassCounts());
        Assert.Equal([3, 6, 9, 12], s.Test.ClassCounts());
        // Disjoint and complete: feature 0 is the original index.
        var ids = s.Train.Features.Where((_, i) => i % 2 == 0).Concat(s.Test.Features.Where((_, i) => i % 2 == 0)).Select(v => (int)v).Order();
        Assert.Equal(Enumerable.Range(0, 100), ids);
        // Each part keeps the original order.
        float[] trainIds = s.Train.Features.Where((_, i) => i % 2 == 0).ToArray();
        Assert.Equal(trainIds.Order(), trainIds);
    }

    [Fact]
    public void Stratified_split_rounds_to_the_exact_total()
    {
        Dataset d = Imbalanced();
        DataSplit s = d.Split(0.55, seed: 1);   // per-class shares 5.5, 11, 16.5, 22 → 55 total
        Assert.Equal(55, s.Train.Count);
        int[] counts = s.Train.ClassCounts();
        Assert.InRange(counts[0], 5, 6);
        Assert.Equal(11, counts[1]);
        Assert.InRange(counts[2], 16, 17);
        Assert.Equal(22, counts[3]);
    }

    [Fact]
    public void Split_depends_on_the_seed_only()
    {
        Dataset d = Imbalanced();
        Assert.Equal(d.Split(0.5, 7).Train.Features, d.Split(0.5, 7).Train.Features);
        Assert.NotEqual(d.Split(0.5, 7).Train.Features, d.Split(0.5, 8).Train.Features);
        Assert.NotEqual(d.Split(0.5, 7, stratified: false).Train.Features, d.Split(0.5, 7).Train.Features);
        Assert.Equal(50, d.Split(0.5, 7, stratified: false).Train.Count);
    }

    [Fact]
    public void Subset_copies_rows()
    {
        Dataset d = Imbalanced();
        Dataset s = d.Subset([5, 0, 5]);
        Assert.Equal([5f, 0f, 0f, 0f, 5f, 0f], s.Features);
        s.Features[0] = -1;
        Assert.Equal(5f, d.Features[10]);
        Assert.Equal(d.ClassCount, s.ClassCount);
        Assert.Equal([20f, 1f, 21f, 1f], d.Subset(20, 2).Features);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Subset([100]));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Subset(99, 2));
    }

    [Fact]
    public void Constructor_validates()
    {
        Assert.Throws<ArgumentException>(() => new Dataset(new float[5], new int[2], 2));
        Assert.Throws<ArgumentException>(() => new Dataset(new float[4], [0, -1], 2));
        Assert.Throws<ArgumentException>(() => new Dataset(new float[4], [0, 3], 2, classCount: 3));
        Assert.Throws<ArgumentException>(() => new Dataset(new float[4], [0, 1], 2, shape: new ImageShape(1, 3, 1)));
        Assert.Equal(5, new Dataset(new float[4], [0, 1], 2, classCount: 5).ClassCount);
    }
}
