using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>MQTT UTF-8 string rules (spec 1.5.4): well-formed UTF-8, no surrogate code points, no U+0000.</summary>
internal static class MqttUtf8
{
    private const int StackCopyLimit = 512;

    public static bool IsValid(ReadOnlySpan<byte> utf8) => utf8.IndexOf((byte)0) < 0 && Utf8.IsValid(utf8);

    /// <summary>Validates a possibly multi-segment string without allocating (a pooled copy only for long split strings).</summary>
    public static bool IsValid(in ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsSingleSegment)
        {
            return IsValid(utf8.FirstSpan);
        }

        var length = (int)utf8.Length;
        if (length <= StackCopyLimit)
        {
            Span<byte> copy = stackalloc byte[length];
            utf8.CopyTo(copy);
            return IsValid(copy);
        }

        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            utf8.CopyTo(rented);
            return IsValid(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static void Validate(in ReadOnlySequence<byte> utf8)
    {
        if (!IsValid(utf8))
        {
            MqttThrow.Malformed("UTF-8 string is not well formed or contains U+0000.");
        }
    }

    public static string GetString(in ReadOnlySequence<byte> utf8) =>
        utf8.IsSingleSegment ? Encoding.UTF8.GetString(utf8.FirstSpan) : Encoding.UTF8.GetString(in utf8);

    /// <summary>Byte count of an outgoing string; MQTT strings carry a 16-bit length.</summary>
    public static int GetByteCount(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        if (count > ushort.MaxValue)
        {
            throw new ArgumentException($"A UTF-8 string field holds at most 65535 bytes, got {count}.", nameof(value));
        }

        return count;
    }
}
