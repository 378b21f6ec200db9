namespace AccessLayer.Protocol.Hpack;

/// <summary>Policy of one <see cref="HpackEncoder"/>.</summary>
public sealed class HpackEncoderOptions
{
    /// <summary>Names never indexed unless overridden: credentials, which must stay out of shared context.</summary>
    public static readonly IReadOnlyList<string> DefaultNeverIndexNames =
        ["authorization", "proxy-authorization", "cookie", "set-cookie"];

    /// <summary>
    /// The peer decoder's limit at the start (MLP HELLO capability / HTTP/2 initial 4096); both sides'
    /// tables start at this size. Later changes go through <see cref="HpackEncoder.SetDynamicTableSizeLimit"/>.
    /// </summary>
    public int DynamicTableSizeLimit { get; init; } = HpackDecoderOptions.DefaultDynamicTableSize;

    /// <summary>Our own cap: the table uses min(limit, cap); a smaller cap is announced in the first block.</summary>
    public int MaxDynamicTableSize { get; init; } = HpackDecoderOptions.DefaultDynamicTableSize;

    public HpackHuffmanPolicy Huffman { get; init; } = HpackHuffmanPolicy.WhenShorter;

    /// <summary>Names always sent as literal never indexed (ASCII case-insensitive).</summary>
    public IReadOnlyList<string> NeverIndexNames { get; init; } = DefaultNeverIndexNames;

    /// <summary>
    /// Names sent as literal without indexing: values unique per request (ids, timestamps) that would only
    /// churn the table and evict useful entries.
    /// </summary>
    public IReadOnlyList<string> DoNotIndexNames { get; init; } = [];

    /// <summary>
    /// Fields whose size (32 + name + value) exceeds this are not indexed; null means half the current
    /// dynamic table size, so one huge value never flushes the whole table.
    /// </summary>
    public int? MaxIndexedFieldSize { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(DynamicTableSizeLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxDynamicTableSize);
        ArgumentNullException.ThrowIfNull(NeverIndexNames);
        ArgumentNullException.ThrowIfNull(DoNotIndexNames);
        if (MaxIndexedFieldSize is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(max);
        }
    }
}
