using System.Buffers.Binary;
using System.Text;

namespace TorchLabs.Tests.Reporting;

/// <summary>One decoded summary value: its tag and whichever payload it carries.</summary>
public sealed record EventValue(
    string Tag,
    float? Simple,
    EventHistogram? Histogram,
    byte[]? ImagePng,
    int ImageWidth,
    int ImageHeight,
    string? PluginName,
    IReadOnlyList<string> Strings
);

/// <summary>A HistogramProto: min, max, count, sum, sum of squares, the right edges of the buckets and their
/// counts.</summary>
public sealed record EventHistogram(
    double Min,
    double Max,
    double Num,
    double Sum,
    double SumSquares,
    double[] Limits,
    double[] Counts
);

/// <summary>One tensorboard.Event.</summary>
public sealed record TfEvent(double WallTime, long Step, string? FileVersion, IReadOnlyList<EventValue> Values);

/// <summary>
/// A reader of TensorBoard event files written from the formats' specifications, sharing nothing with the writer
/// (TorchSharp's SummaryWriter and Google.Protobuf): TFRecord framing (uint64 length, masked CRC-32C of the length, the
/// data, masked CRC-32C of the data; tensorflow/core/lib/io/record_writer.cc) with both CRCs checked, and the protobuf
/// wire format decoded by hand for the fields of event.proto, summary.proto, histogram.proto and tensor.proto that
/// TensorBoard reads.
/// </summary>
public static class EventFiles
{
    /// <summary>Every event of every events.out.tfevents.* file in <paramref name="dir"/> (not below it), in file
    /// order.</summary>
    public static List<TfEvent> ReadFolder(string dir) =>
        [.. Directory.GetFiles(dir, "events.out.tfevents.*").Order().SelectMany(Read)];

    public static List<TfEvent> Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        var events = new List<TfEvent>();
        int at = 0;
        while (at < file.Length)
        {
            if (file.Length - at < 12)
                throw new InvalidDataException($"{path}: {file.Length - at} stray bytes at {at}");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at));
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
            if (Masked(file.AsSpan(at, 8)) != lengthCrc)
                throw new InvalidDataException($"{path}: bad length CRC at {at}");
            if (length > (ulong)(file.Length - at - 16))
                throw new InvalidDataException($"{path}: record at {at} runs past the end");
            var data = file.AsSpan(at + 12, (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 12 + (int)length));
            if (Masked(data) != dataCrc)
                throw new InvalidDataException($"{path}: bad data CRC at {at}");
            events.Add(Event(data.ToArray()));
            at += 16 + (int)length;
        }
        return events;
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) bit by bit, masked as TFRecord masks it:
    /// ((crc &gt;&gt; 15) | (crc &lt;&lt; 17)) + 0xa282ead8.</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8);
    }

    /// <summary>event.proto: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary =
    /// 5.</summary>
    static TfEvent Event(byte[] m)
    {
        double wall = 0;
        long step = 0;
        string? version = null;
        var values = new List<EventValue>();
        foreach (var f in Fields(m))
            switch (f.Number)
            {
                case 1:
                    wall = BitConverter.Int64BitsToDouble((long)f.Fixed);
                    break;
                case 2:
                    step = (long)f.Varint;
                    break;
                case 3:
                    version = Encoding.UTF8.GetString(f.Bytes!);
                    break;
                case 5:
                    values.AddRange(Fields(f.Bytes!).Where(v => v.Number == 1).Select(v => Value(v.Bytes!)));
                    break;
            }
        return new TfEvent(wall, step, version, values);
    }

    /// <summary>Summary.Value: tag = 1, simple_value = 2 (float), image = 4, histo = 5, tensor = 8, metadata =
    /// 9.</summary>
    static EventValue Value(byte[] m)
    {
        string tag = "";
        float? simple = null;
        EventHistogram? histo = null;
        byte[]? png = null;
        int w = 0,
            h = 0;
        string? plugin = null;
        var strings = new List<string>();
        foreach (var f in Fields(m))
            switch (f.Number)
            {
                case 1:
                    tag = Encoding.UTF8.GetString(f.Bytes!);
                    break;
                case 2:
                    simple = BitConverter.Int32BitsToSingle((int)f.Fixed);
                    break;
                case 4: // Image: height = 1, width = 2, colorspace = 3, encoded_image_string = 4
                    foreach (var g in Fields(f.Bytes!))
                        if (g.Number == 1)
                            h = (int)g.Varint;
                        else if (g.Number == 2)
                            w = (int)g.Varint;
                        else if (g.Number == 4)
                            png = g.Bytes;
                    break;
                case 5:
                    histo = Histogram(f.Bytes!);
                    break;
                case 8: // TensorProto: string_val = 8
                    strings.AddRange(
                        Fields(f.Bytes!).Where(g => g.Number == 8).Select(g => Encoding.UTF8.GetString(g.Bytes!))
                    );
                    break;
                case 9: // SummaryMetadata: plugin_data = 1 { plugin_name = 1 }
                    foreach (var g in Fields(f.Bytes!).Where(g => g.Number == 1))
                        plugin = Fields(g.Bytes!)
                            .Where(p => p.Number == 1)
                            .Select(p => Encoding.UTF8.GetString(p.Bytes!))
                            .FirstOrDefault();
                    break;
            }
        return new EventValue(tag, simple, histo, png, w, h, plugin, strings);
    }

    /// <summary>HistogramProto: min 1, max 2, num 3, sum 4, sum_squares 5 (doubles), bucket_limit 6 and bucket 7
    /// (packed doubles).</summary>
    static EventHistogram Histogram(byte[] m)
    {
        var d = new double[6];
        double[] limits = [],
            counts = [];
        foreach (var f in Fields(m))
            if (f.Number is >= 1 and <= 5)
                d[f.Number] = BitConverter.Int64BitsToDouble((long)f.Fixed);
            else if (f.Number == 6)
                limits = Doubles(f.Bytes!);
            else if (f.Number == 7)
                counts = Doubles(f.Bytes!);
        return new EventHistogram(d[1], d[2], d[3], d[4], d[5], limits, counts);
    }

    static double[] Doubles(byte[] packed) =>
        [
            .. Enumerable
                .Range(0, packed.Length / 8)
                .Select(i => BinaryPrimitives.ReadDoubleLittleEndian(packed.AsSpan(8 * i))),
        ];

    readonly record struct Field(int Number, ulong Varint, ulong Fixed, byte[]? Bytes);

    /// <summary>The protobuf wire format: key = (field number &lt;&lt; 3) | wire type; 0 varint, 1 fixed64, 2
    /// length-delimited, 5 fixed32.</summary>
    static IEnumerable<Field> Fields(byte[] m)
    {
        int at = 0;
        while (at < m.Length)
        {
            ulong key = Varint(m, ref at);
            int number = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    yield return new Field(number, Varint(m, ref at), 0, null);
                    break;
                case 1:
                    yield return new Field(number, 0, BinaryPrimitives.ReadUInt64LittleEndian(m.AsSpan(at)), null);
                    at += 8;
                    break;
                case 2:
                    int n = checked((int)Varint(m, ref at));
                    yield return new Field(number, 0, 0, m[at..(at + n)]);
                    at += n;
                    break;
                case 5:
                    yield return new Field(number, 0, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(at)), null);
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {key & 7} of field {number}");
            }
        }
    }

    static ulong Varint(byte[] m, ref int at)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = m[at++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return v;
        }
    }
}
