namespace AccessLayer.Protocol.Hpack;

/// <summary>Limits of one <see cref="HpackDecoder"/>; every one bounds memory a peer can make us use.</summary>
public sealed class HpackDecoderOptions
{
    /// <summary>RFC 7541 / HTTP/2 initial SETTINGS_HEADER_TABLE_SIZE.</summary>
    public const int DefaultDynamicTableSize = 4096;

    /// <summary>
    /// The dynamic table size limit we advertise (MLP HELLO capability / HTTP/2 SETTINGS_HEADER_TABLE_SIZE);
    /// the table starts at this size. Change it later with <see cref="HpackDecoder.SetDynamicTableSizeLimit"/>.
    /// </summary>
    public int DynamicTableSizeLimit { get; init; } = DefaultDynamicTableSize;

    /// <summary>Maximum decoded header list size, counted as the sum of 32 + name + value octets.</summary>
    public int MaxHeaderListSize { get; init; } = 16 * 1024;

    /// <summary>Maximum length of one string literal, both as sent and after Huffman decoding.</summary>
    public int MaxStringLength { get; init; } = 8 * 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(DynamicTableSizeLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxHeaderListSize);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxStringLength);
    }
}
