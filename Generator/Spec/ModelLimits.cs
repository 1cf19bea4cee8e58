namespace Kiln.Generator.Spec;

/// <summary>The size limits the parser enforces (KLN0005, KLN0018), so that every generated offset and buffer fits.</summary>
public static class ModelLimits
{
    /// <summary>
    /// Largest number of parameters of a model. Each of the parameter, gradient and optimiser-state arenas is one
    /// float array, and the generated offsets are ints; 2³⁰ keeps them well inside both (4 GiB per arena).
    /// </summary>
    public const long MaxParameters = 1L << 30;

    /// <summary>Largest number of units of a layer.</summary>
    public const int MaxUnits = 1 << 24;

    /// <summary>Largest tensor or activation buffer, in floats (1 GiB).</summary>
    public const long MaxTensorLength = 1L << 28;
}
