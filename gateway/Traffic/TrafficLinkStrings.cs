using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The short strings one site link reads again and again (header names, the routing metadata of answers, hop, service,
/// operation, platform, app version): each read as one shared instance instead of a new string per call. Bounded: at
/// most <see cref="MaxEntries"/> strings of at most <see cref="MaxChars"/> characters, the whole set dropped when full
/// (so values that stop coming, a backend's dates, do not stay). Used by one link's read loop only: not thread-safe.
/// </summary>
internal sealed class TrafficLinkStrings
{
    public const int MaxEntries = 512;
    public const int MaxChars = 64;

    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public TrafficLinkStrings() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>A length-prefixed string as <see cref="FleetFields.ReadString"/> reads it (well-formed UTF-8, no U+0000), shared when short.</summary>
    public string Read(ref MqttBodyReader reader)
    {
        var utf8 = reader.ReadSlice(FleetFields.ReadLength(ref reader, FleetSize.MaxStringBytes));
        MqttUtf8.Validate(utf8);
        if (utf8.Length > MaxChars || !utf8.IsSingleSegment)
        {
            return MqttUtf8.GetString(utf8);
        }

        // At most one char per UTF-8 byte.
        Span<char> chars = stackalloc char[MaxChars];
        var length = Encoding.UTF8.GetChars(utf8.FirstSpan, chars);
        if (_lookup.TryGetValue(chars[..length], out var known))
        {
            return known;
        }

        var text = new string(chars[..length]);
        if (_strings.Count >= MaxEntries)
        {
            _strings.Clear();
        }

        _strings.Add(text, text);
        return text;
    }

    public int Count => _strings.Count;
}
