using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Header block decoding and the pseudo-header rules of docs/protocol.md §7.3.</summary>
internal static class MlpHeaders
{
    public const string Service = ":service";
    public const string Operation = ":operation";
    public const string TimeoutMs = "timeout-ms";
    public const string ContentType = "content-type";

    /// <summary>Decodes one block; any failure (including an over-long list) is the connection error HEADER_COMPRESSION_ERROR.</summary>
    public static List<HeaderField> Decode(HpackDecoder decoder, in ReadOnlySequence<byte> block)
    {
        var fields = new List<HeaderField>(8);
        Decode(decoder, block, fields, null);
        return fields;
    }

    /// <summary>Decodes one block into <paramref name="fields"/>, taking repeated names and values from <paramref name="strings"/>.</summary>
    public static void Decode(HpackDecoder decoder, in ReadOnlySequence<byte> block, List<HeaderField> fields, MlpHeaderStrings? strings)
    {
        var collector = new Collector(fields, strings);
        try
        {
            decoder.Decode(block, ref collector);
        }
        catch (HpackDecodingException ex)
        {
            throw new MlpProtocolException(MlpErrorCode.HeaderCompressionError, "Header block rejected: " + ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new MlpProtocolException(MlpErrorCode.HeaderCompressionError, ex.Message, ex);
        }
    }

    /// <summary>
    /// Splits <c>:service</c> and <c>:operation</c> from the regular fields. A missing or empty one, an
    /// unknown pseudo-header, a pseudo-header after a regular field or an upper-case name is the stream
    /// error PROTOCOL_ERROR.
    /// </summary>
    public static (string Service, string Operation, HeaderField[] Regular) SplitRequest(List<HeaderField> fields, uint streamId)
    {
        string? service = null, operation = null;
        var regularCount = 0;
        foreach (var field in fields)
        {
            if (field.Name.StartsWith(':'))
            {
                if (regularCount > 0)
                    throw StreamError(streamId, $"Pseudo-header {field.Name} after a regular header.");
                switch (field.Name)
                {
                    case Service when service is null: service = field.Value; break;
                    case Operation when operation is null: operation = field.Value; break;
                    default: throw StreamError(streamId, $"Unknown or repeated pseudo-header {field.Name}.");
                }

                continue;
            }

            if (field.Name.Length == 0 || field.Name.AsSpan().ContainsAnyInRange('A', 'Z'))
                throw StreamError(streamId, $"Header name '{field.Name}' is not lower case.");
            regularCount++;
        }

        if (string.IsNullOrEmpty(service) || string.IsNullOrEmpty(operation))
            throw StreamError(streamId, "A REQUEST needs non-empty :service and :operation.");

        // Pseudo-headers come first, so the regular ones are the tail; none (the common case) costs nothing.
        var regular = regularCount == 0 ? [] : new HeaderField[regularCount];
        fields.CopyTo(fields.Count - regularCount, regular, 0, regularCount);
        return (service, operation, regular);
    }

    /// <summary>The request's <c>timeout-ms</c>, capped by the service's own deadline.</summary>
    public static TimeSpan Timeout(IReadOnlyList<HeaderField> headers, TimeSpan ceiling)
    {
        foreach (var header in headers)
        {
            if (header.Name == TimeoutMs && long.TryParse(header.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0)
                return TimeSpan.FromMilliseconds(Math.Min(ms, (long)ceiling.TotalMilliseconds));
        }

        return ceiling;
    }

    /// <summary>An upper bound of the encoded size of a block, so a frame can be sized before the encoder's table changes.</summary>
    public static int MaxEncodedSize(IReadOnlyList<HeaderField> headers)
    {
        var size = 8;
        foreach (var header in headers)
            size += Encoding.UTF8.GetByteCount(header.Name) + Encoding.UTF8.GetByteCount(header.Value) + 12;
        return size;
    }

    private static MlpProtocolException StreamError(uint streamId, string message) => new(MlpErrorCode.ProtocolError, message, streamId);

    private readonly struct Collector(List<HeaderField> fields, MlpHeaderStrings? strings) : IHpackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            fields.Add(strings is null
                ? new HeaderField(Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(value))
                : new HeaderField(strings.Get(name), strings.Get(value)));
    }
}
