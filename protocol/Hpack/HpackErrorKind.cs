namespace AccessLayer.Protocol.Hpack;

/// <summary>Why a header block was rejected.</summary>
public enum HpackErrorKind
{
    /// <summary>The block ends inside a representation (integer, string length or string octets).</summary>
    Truncated,

    /// <summary>Index 0, or an index beyond the static plus dynamic table.</summary>
    InvalidIndex,

    /// <summary>An integer does not fit in 31 bits (or uses too many continuation octets).</summary>
    IntegerOverflow,

    /// <summary>A Huffman string contains EOS, or its padding is longer than 7 bits or not all ones.</summary>
    InvalidHuffman,

    /// <summary>A dynamic table size update above the acknowledged limit.</summary>
    TableSizeUpdateTooLarge,

    /// <summary>A size update after the first field, or a required size update (after the limit shrank) missing.</summary>
    TableSizeUpdateMisplaced,

    /// <summary>A string literal (encoded or decoded) longer than the configured maximum.</summary>
    StringTooLong,

    /// <summary>
    /// The decoded header list exceeds the configured maximum (sum of 32 + name + value). The block was
    /// still processed to its end, so the dynamic table stays in step and the connection may continue.
    /// </summary>
    HeaderListTooLarge,
}
