using System.IO;

namespace Kiln.Data;

/// <summary>
/// Data sets shipped inside Kiln.Runtime, so samples and tests run without any download:
/// the UCI 8×8 handwritten digits (1797 samples, 64 pixels in 0..16, 10 classes).
/// </summary>
public static class EmbeddedData
{
    /// <summary>Manifest name of the gzip-compressed digits CSV.</summary>
    public const string DigitsResourceName = "Kiln.Data.digits.csv.gz";

    /// <summary>The whole digits set (a fresh copy on every call), shape 1×8×8, raw pixel values 0..16.</summary>
    public static Dataset Digits()
    {
        using Stream stream = typeof(EmbeddedData).Assembly.GetManifestResourceStream(DigitsResourceName)
            ?? throw new InvalidDataException($"Embedded resource '{DigitsResourceName}' is missing from {typeof(EmbeddedData).Assembly.GetName().Name}.");
        return Csv.Load(stream, DigitsResourceName, labelColumn: -1, header: CsvHeader.Absent, name: "digits", shape: new ImageShape(1, 8, 8));
    }

    /// <summary>
    /// The standard deterministic split of the digits set: stratified, <paramref name="trainFraction"/> of
    /// each class for training (default 0.8: 1438 train, 359 test), shuffled with <paramref name="seed"/>.
    /// </summary>
    public static DataSplit DigitsSplit(double trainFraction = 0.8, ulong seed = 0) =>
        Digits().Split(trainFraction, seed, stratified: true);
}
