namespace Kiln.Generator;

/// <summary>Names of the incremental pipeline steps, for caching tests (WithTrackingName).</summary>
public static class TrackingNames
{
    public const string Parse = "Kiln.Parse";
    public const string Specs = "Kiln.Specs";
    public const string Diagnostics = "Kiln.Diagnostics";
}
