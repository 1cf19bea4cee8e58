namespace Kiln.Generator;

/// <summary>Names of the incremental pipeline steps, for caching tests (WithTrackingName).</summary>
public static class TrackingNames
{
    public const string Parse = "Kiln.Parse";
    public const string Specs = "Kiln.Specs";
    public const string Diagnostics = "Kiln.Diagnostics";
    /// <summary>Each valid spec with its unique hint name: the input of the code-emitting output.</summary>
    public const string Outputs = "Kiln.Outputs";
}
