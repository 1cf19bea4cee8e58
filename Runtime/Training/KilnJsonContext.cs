using System.Text.Json.Serialization;
using Kiln.Data;
using Kiln.Training;

namespace Kiln;

// Source-generated serialisation: no reflection at run time, so trimming and AOT keep working.
// Named floating-point literals because a diverged run's loss is NaN, which plain JSON cannot carry.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(RunSummary))]
internal sealed partial class KilnJsonContext : JsonSerializerContext;
