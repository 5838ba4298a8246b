using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TorchLabs.Cli.Commands;

/// <summary>
/// JSON output: camelCase names, one object on stdout. One rule for numbers that are not finite, in every command:
/// NaN and ±∞ are written as null (JSON has no such numbers), and the field's documentation says what null means there.
/// </summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new FiniteOrNull<double>(), new FiniteOrNull<float>() },
    };

    public static void Print<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>Writes a float or double as a number, or null when it is NaN or infinite; reads null back as
    /// NaN.</summary>
    sealed class FiniteOrNull<T> : JsonConverter<T>
        where T : struct, System.Numerics.IFloatingPointIeee754<T>
    {
        public override bool HandleNull => true;

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? T.NaN : T.CreateChecked(reader.GetDouble());

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            if (T.IsFinite(value))
                writer.WriteNumberValue(double.CreateChecked(value));
            else
                writer.WriteNullValue();
        }
    }
}
