using System.IO;
using System.Text;
using Kiln.Data;

namespace Kiln.Runtime.Tests;

public class CsvTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loads_features_and_last_column_labels(bool gzip)
    {
        using var tmp = new TempDirectory();
        string p = tmp.WriteText("d.csv", "1,2,0\n3.5, -4 ,2\n\n5e-1,6,1\n", gzip);

        Dataset d = Csv.Load(p);

        Assert.Equal(3, d.Count);
        Assert.Equal(2, d.FeatureCount);
        Assert.Equal(3, d.ClassCount);
        Assert.Equal([1f, 2f, 3.5f, -4f, 0.5f, 6f], d.Features);
        Assert.Equal([0, 2, 1], d.Labels);
        Assert.Equal("d.csv", d.Name);
    }

    [Fact]
    public void Header_is_detected_and_label_column_can_be_chosen()
    {
        using var tmp = new TempDirectory();
        string p = tmp.WriteText("h.csv", "label,a,b\n1,10,20\n0,30,40\n");

        Dataset d = Csv.Load(p, labelColumn: 0);

        Assert.Equal(2, d.Count);
        Assert.Equal([10f, 20f, 30f, 40f], d.Features);
        Assert.Equal([1, 0], d.Labels);
        // An explicit CsvHeader.Absent makes the header a bad row, reported as a mismatch.
        var ex = Assert.Throws<InvalidDataException>(() => Csv.Load(p, labelColumn: 0, header: CsvHeader.Absent));
        Assert.Contains("row 1, column 1", ex.Message);
    }

    [Fact]
    public void Bad_value_names_file_row_and_column()
    {
        using var tmp = new TempDirectory();
        string p = tmp.WriteText("bad.csv", "1,2,0\n3,4,1\n5,x7,1\n");

        var ex = Assert.Throws<InvalidDataException>(() => Csv.Load(p));

        Assert.Contains("bad.csv", ex.Message);
        Assert.Contains("row 3, column 2", ex.Message);
        Assert.Contains("'x7'", ex.Message);
    }

    [Fact]
    public void Bad_label_names_row_and_column()
    {
        using var tmp = new TempDirectory();
        string p = tmp.WriteText("bad.csv", "1,2,0\n3,4,1.5\n");
        var ex = Assert.Throws<InvalidDataException>(() => Csv.Load(p));
        Assert.Contains("row 2, column 3", ex.Message);
        Assert.Contains("label", ex.Message);
    }

    [Fact]
    public void Ragged_rows_name_the_row()
    {
        using var tmp = new TempDirectory();
        string tooMany = tmp.WriteText("many.csv", "1,2,0\n3,4,5,1\n");
        string tooFew = tmp.WriteText("few.csv", "1,2,0\n3,1\n");
        Assert.Contains("row 2 has 4 columns, expected 3", Assert.Throws<InvalidDataException>(() => Csv.Load(tooMany)).Message);
        Assert.Contains("row 2 has 2 columns, expected 3", Assert.Throws<InvalidDataException>(() => Csv.Load(tooFew)).Message);
    }

    [Fact]
    public void Stream_overload_and_other_separators()
    {
        using var ms = new MemoryStream(Encoding.UTF8.GetBytes("0.25;1\n0.75;0\n"));
        Dataset d = Csv.Load(ms, "inline", separator: ';');
        Assert.Equal([0.25f, 0.75f], d.Features);
        Assert.Equal("inline", d.Name);
        Assert.True(ms.CanRead);   // left open
    }

    [Fact]
    public void Empty_file_is_an_error()
    {
        using var tmp = new TempDirectory();
        string p = tmp.WriteText("empty.csv", "\n\n");
        Assert.Contains("empty.csv", Assert.Throws<InvalidDataException>(() => Csv.Load(p)).Message);
    }
}
