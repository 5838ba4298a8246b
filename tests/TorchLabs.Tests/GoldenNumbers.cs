using System.Globalization;
using System.Text.Json;

namespace TorchLabs.Tests;

/// <summary>Numbers of the golden files that scripts/golden writes: JSON has no NaN or infinity, so the scripts write
/// them as the strings "NaN", "Infinity" and "-Infinity".</summary>
public static class GoldenNumbers
{
    public static double Number(JsonElement v) =>
        v.ValueKind == JsonValueKind.String
            ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture)
            : v.GetDouble();
}
