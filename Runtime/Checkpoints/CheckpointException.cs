using System;
using System.IO;

namespace Kiln.Checkpoints;

/// <summary>
/// A checkpoint file that is malformed or does not fit the model. The message names the file, the tensor (when one is
/// involved) and what was expected versus found. A load that throws this has not changed the model.
/// </summary>
public sealed class CheckpointException : IOException
{
    /// <summary>The checkpoint file.</summary>
    public string FilePath { get; }
    /// <summary>The tensor the problem concerns, or null for header/metadata problems.</summary>
    public string? TensorName { get; }

    /// <summary>Creates the exception for <paramref name="filePath"/>, naming the offending tensor (<paramref name="tensorName"/>, or null when the problem is not about one tensor) and what is wrong with it (<paramref name="detail"/>).</summary>
    public CheckpointException(string filePath, string? tensorName, string detail, Exception? inner = null)
        : base(Format(filePath, tensorName, detail), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    private static string Format(string filePath, string? tensorName, string detail) =>
        tensorName is null
            ? $"Checkpoint '{filePath}': {detail}"
            : $"Checkpoint '{filePath}', tensor '{tensorName}': {detail}";
}
