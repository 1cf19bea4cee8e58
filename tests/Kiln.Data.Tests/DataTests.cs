using System;
using System.IO;
using System.Linq;
using System.Text;

namespace Kiln.Data.Tests;

public class DataTests
{
    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Csv_label_column_can_be_named()
    {
        Dataset d = Csv.Load(Text("a,\"label\",b\n1,2,3\n4,0,6\n"), "mem.csv", "label", shape: new ImageShape(1, 1, 2));
        Assert.Equal([1f, 3f, 4f, 6f], d.Features);
        Assert.Equal([2, 0], d.Labels);
        Assert.Equal(new ImageShape(1, 1, 2), d.Shape);

        InvalidDataException e = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("a,b,c\n1,2,3\n"), "mem.csv", "class"));
        Assert.Contains("mem.csv", e.Message);
        Assert.Contains("'class'", e.Message);
        Assert.Contains("'a', 'b', 'c'", e.Message);

        InvalidDataException bad = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("a,label\n1,2\nx,3\n"), "mem.csv", "label"));
        Assert.Contains("row 3, column 1", bad.Message);
    }

    [Fact]
    public void In_memory_rows_and_matrices_are_copied_and_checked()
    {
        float[][] rows = [[1, 2], [3, 4], [5, 6]];
        Dataset d = Dataset.FromRows(rows, [0, 1, 0], name: "rows");
        rows[0][0] = 99;
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], d.Features);
        Assert.Equal(2, d.ClassCount);
        ArgumentException e = Assert.Throws<ArgumentException>(() => Dataset.FromRows([[1, 2], [3]], [0, 1], name: "ragged"));
        Assert.Contains("row 1 has 1 values", e.Message);
        Assert.Throws<ArgumentException>(() => Dataset.FromRows(rows, [0, 1]));

        Dataset m = Dataset.FromMatrix(new float[,] { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } }, [1, 1], classCount: 3, shape: new ImageShape(1, 2, 2));
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (float)i), m.Features);
        Assert.Equal(3, m.ClassCount);
        Assert.Throws<ArgumentException>(() => Dataset.FromMatrix(new float[2, 3], [0]));

        Dataset viewed = d.WithShape(new ImageShape(2, 1, 1));
        Assert.Same(d.Features, viewed.Features);
        Assert.Equal(new ImageShape(2, 1, 1), viewed.Shape);
        Assert.Null(viewed.WithShape(null).Shape);
        Assert.Throws<ArgumentException>(() => d.WithShape(new ImageShape(1, 1, 3)));
    }

    [Theory]
    [InlineData(0.8, 1UL)]
    [InlineData(0.5, 2UL)]
    [InlineData(0.37, 3UL)]
    [InlineData(0.9, 4UL)]
    public void Stratified_splits_keep_class_proportions_within_one_sample_and_partition_the_data(double fraction, ulong seed)
    {
        // 7 classes of very different sizes; feature 0 is the sample index.
        int[] sizes = [3, 11, 50, 7, 120, 1, 29];
        int[] labels = sizes.SelectMany((n, c) => Enumerable.Repeat(c, n)).ToArray();
        var rng = new KilnRandom(seed);
        for (int i = labels.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (labels[i], labels[j]) = (labels[j], labels[i]);
        }
        var data = new Dataset(labels.Select((_, i) => (float)i).ToArray(), labels, 1, name: "many");

        foreach (DataSplit s in new[] { data.Split(fraction, seed), data.ValidationSplit(1 - fraction, seed) })
        {
            int[] train = s.Train.ClassCounts(), held = s.Test.ClassCounts();
            for (int c = 0; c < sizes.Length; c++)
            {
                Assert.InRange(train[c], sizes[c] * fraction - 1, sizes[c] * fraction + 1);
                Assert.Equal(sizes[c], train[c] + held[c]);
            }
            int[] ids = s.Train.Features.Concat(s.Test.Features).Select(v => (int)v).ToArray();
            Assert.Equal(ids.Length, ids.Distinct().Count());                 // disjoint
            Assert.Equal(Enumerable.Range(0, labels.Length), ids.Order());   // covering
            for (int k = 0; k < s.Train.Count; k++) Assert.Equal(labels[(int)s.Train.Features[k]], s.Train.Labels[k]);
        }
        DataSplit v = data.ValidationSplit(0.2, seed);
        Assert.Equal("many/train", v.Train.Name);
        Assert.Equal("many/validation", v.Test.Name);
        Assert.Equal((int)Math.Round(labels.Length * 0.8, MidpointRounding.AwayFromZero), v.Train.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.ValidationSplit(1, seed));
    }

    [Fact]
    public void Idx_images_get_their_shape_automatically()
    {
        // 2 images of 28×28 (big-endian header: magic 0x00000803, dims 2, 28, 28) and their labels.
        var images = new MemoryStream();
        images.Write([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]);
        images.Write(new byte[2 * 28 * 28]);
        images.Position = 0;
        var labels = new MemoryStream([0, 0, 8, 1, 0, 0, 0, 2, 3, 1]);
        Dataset d = Idx.ToDataset(Idx.Read(images, "img"), Idx.Read(labels, "lab"));
        Assert.Equal(new ImageShape(1, 28, 28), d.Shape);
        Assert.Equal([3, 1], d.Labels);
    }
}
