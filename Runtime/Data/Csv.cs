using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Kiln.Data;

/// <summary>Whether the first row of a CSV file is a header (docs/data.md).</summary>
public enum CsvHeader
{
    /// <summary>
    /// Decide from the first row, only when that is unambiguous: every field text → a header; every field a number → data.
    /// A row that mixes numbers and text (a header with numeric names, or data with a bad value) and a row of strictly
    /// increasing integers such as <c>0,1,2,3,4</c> (unnamed columns, or data?) are reported as ambiguous: say which.
    /// </summary>
    Auto,
    /// <summary>The first row is a header. Reported as a mismatch when it holds only numbers, unless they are strictly increasing integers (column numbers).</summary>
    Present,
    /// <summary>Every row is data. Reported as a mismatch (besides the bad value) when the first row holds no number at all.</summary>
    Absent,
}

/// <summary>
/// Loads numeric CSV files (raw or gzip, detected from the content) into a <see cref="Dataset"/>: every
/// column is a float feature except one integer label column. No quoting: fields are numbers.
/// </summary>
public static class Csv
{
    /// <summary>Loads a CSV file.</summary>
    /// <param name="path">File path; gzip is detected by its magic bytes.</param>
    /// <param name="labelColumn">0-based label column; negative counts from the end (-1, the default, is the last).</param>
    /// <param name="header">Whether the first row is a header (default <see cref="CsvHeader.Auto"/>: decided only when unambiguous, see <see cref="CsvHeader"/>).</param>
    /// <param name="separator">Field separator.</param>
    /// <param name="name">Data set name; defaults to the file name.</param>
    /// <param name="shape">Optional image shape of the features.</param>
    /// <exception cref="InvalidDataException">A bad value or row; the message names the file, 1-based row (line) and column.</exception>
    public static Dataset Load(string path, int labelColumn = -1, CsvHeader header = CsvHeader.Auto, char separator = ',', string? name = null, ImageShape? shape = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using Stream s = StreamOpener.OpenFile(path, Path.GetFileName(path));
        return LoadDecompressed(s, Path.GetFileName(path), labelColumn, null, header, separator, name ?? Path.GetFileName(path), shape);
    }

    /// <summary>Loads a CSV file whose first line is a header, taking the labels from the column named <paramref name="labelColumn"/>.</summary>
    /// <exception cref="InvalidDataException">No such column (the message lists the header), a bad value or row.</exception>
    public static Dataset Load(string path, string labelColumn, char separator = ',', string? name = null, ImageShape? shape = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(labelColumn);
        using Stream s = StreamOpener.OpenFile(path, Path.GetFileName(path));
        return LoadDecompressed(s, Path.GetFileName(path), -1, labelColumn, CsvHeader.Present, separator, name ?? Path.GetFileName(path), shape);
    }

    /// <summary>Loads CSV with a header from a stream (raw or gzip), labels from the column named <paramref name="labelColumn"/>.</summary>
    public static Dataset Load(Stream stream, string sourceName, string labelColumn, char separator = ',', string? name = null, ImageShape? shape = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(labelColumn);
        Stream s = StreamOpener.MaybeDecompress(stream, leaveOpen: true, sourceName);
        try
        {
            return LoadDecompressed(s, sourceName, -1, labelColumn, CsvHeader.Present, separator, name ?? sourceName, shape);
        }
        finally
        {
            if (!ReferenceEquals(s, stream)) s.Dispose();
        }
    }

    /// <summary>Loads CSV from a stream (raw or gzip), which is left open; <paramref name="sourceName"/> names it in errors.</summary>
    public static Dataset Load(Stream stream, string sourceName, int labelColumn = -1, CsvHeader header = CsvHeader.Auto, char separator = ',', string? name = null, ImageShape? shape = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Stream s = StreamOpener.MaybeDecompress(stream, leaveOpen: true, sourceName);
        try
        {
            return LoadDecompressed(s, sourceName, labelColumn, null, header, separator, name ?? sourceName, shape);
        }
        finally
        {
            if (!ReferenceEquals(s, stream)) s.Dispose();
        }
    }

    private static Dataset LoadDecompressed(Stream stream, string source, int labelColumn, string? labelName, CsvHeader header, char separator, string name, ImageShape? shape)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var features = new List<float>();
        var labels = new List<int>();
        int columns = -1, label = -1, row = 0;
        bool first = true;

        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            row++;
            if (string.IsNullOrWhiteSpace(line)) continue;   // blank lines (trailing newline, spacing) carry no sample
            ReadOnlySpan<char> text = line.AsSpan();

            if (first)
            {
                first = false;
                columns = CountFields(text, separator);
                if (columns < 2)
                    throw new InvalidDataException($"{source}: row {row} has {columns} column(s); need at least one feature and a label (separator '{separator}').");
                if (labelName is not null)
                {
                    label = FindColumn(text, separator, labelName);
                    if (label < 0)
                        throw new InvalidDataException($"{source}: row {row} (the header) has no column named '{labelName}'; its columns are {string.Join(", ", HeaderNames(text, separator))}.");
                    continue;
                }
                label = labelColumn < 0 ? columns + labelColumn : labelColumn;
                if (label < 0 || label >= columns)
                    throw new ArgumentOutOfRangeException(nameof(labelColumn), labelColumn, $"{source}: label column {labelColumn} is outside the {columns} columns.");
                if (IsHeader(text, separator, header, source, row)) continue;
            }

            int col = 0;
            foreach (Range r in text.Split(separator))
            {
                col++;
                if (col > columns)
                    throw new InvalidDataException($"{source}: row {row} has {CountFields(text, separator)} columns, expected {columns}.");
                ReadOnlySpan<char> field = text[r].Trim();
                if (col - 1 == label)
                {
                    if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double y) || y != Math.Floor(y) || y < 0 || y > int.MaxValue)
                        throw new InvalidDataException($"{source}: row {row}, column {col}: label '{field}' is not a non-negative integer.");
                    labels.Add((int)y);
                }
                else
                {
                    if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                        throw new InvalidDataException($"{source}: row {row}, column {col}: '{field}' is not a finite number.");
                    features.Add(v);
                }
            }
            if (col < columns)
                throw new InvalidDataException($"{source}: row {row} has {col} columns, expected {columns}.");
        }

        if (labels.Count == 0)
            throw new InvalidDataException($"{source}: no data rows.");
        return new Dataset(features.ToArray(), labels.ToArray(), columns - 1, 0, shape, name);
    }

    private static int FindColumn(ReadOnlySpan<char> header, char separator, string name)
    {
        int i = 0;
        foreach (Range r in header.Split(separator))
        {
            if (Unquote(header[r].Trim()).SequenceEqual(name)) return i;
            i++;
        }
        return -1;
    }

    private static List<string> HeaderNames(ReadOnlySpan<char> header, char separator)
    {
        var names = new List<string>();
        foreach (Range r in header.Split(separator)) names.Add("'" + Unquote(header[r].Trim()).ToString() + "'");
        return names;
    }

    /// <summary>Header names may be quoted ("label"); values are never quoted.</summary>
    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> field) =>
        field.Length >= 2 && field[0] == '"' && field[^1] == '"' ? field[1..^1] : field;

    private static int CountFields(ReadOnlySpan<char> line, char separator) => line.Count(separator) + 1;

    /// <summary>Decides whether the first row is a header (<see cref="CsvHeader"/>), reporting a mismatch or an ambiguous row.</summary>
    private static bool IsHeader(ReadOnlySpan<char> line, char separator, CsvHeader header, string source, int row)
    {
        int fields = 0, numbers = 0;
        string? firstText = null;
        bool increasingIntegers = true;
        double previous = double.NegativeInfinity;
        foreach (Range r in line.Split(separator))
        {
            fields++;
            ReadOnlySpan<char> field = line[r].Trim();
            if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                numbers++;
                increasingIntegers &= v == Math.Floor(v) && v > previous;
                previous = v;
            }
            else
            {
                firstText ??= $"'{field}' in column {fields}";
                increasingIntegers = false;
            }
        }
        string where = $"{source}: row {row}";
        switch (header)
        {
            case CsvHeader.Present:
                if (numbers == fields && !increasingIntegers)
                    throw new InvalidDataException($"{where} was declared a header (CsvHeader.Present) but holds only numbers: it looks like data. Pass CsvHeader.Absent, or CsvHeader.Auto to decide from the row.");
                return true;
            case CsvHeader.Absent:
                if (numbers == 0)
                    throw new InvalidDataException($"{where}, column 1: the file was declared headerless (CsvHeader.Absent) but no field of its first row is a number ({firstText}): it looks like a header. Pass CsvHeader.Present.");
                return false;
            default:
                if (numbers == 0) return true;
                if (numbers < fields)
                    throw new InvalidDataException($"{where} mixes numbers and text ({firstText}): it is either a header with numeric names or a data row with a bad value. Say which with header: CsvHeader.Present or CsvHeader.Absent.");
                if (increasingIntegers && fields > 2)
                    throw new InvalidDataException($"{where} ({line.ToString()}) is a run of increasing integers: a header of column numbers, or a data row? Say which with header: CsvHeader.Present or CsvHeader.Absent.");
                return false;
        }
    }
}
