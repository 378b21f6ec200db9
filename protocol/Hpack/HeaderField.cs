namespace AccessLayer.Protocol.Hpack;

/// <summary>
/// One header field as strings (UTF-8 on the wire). <paramref name="NeverIndex"/> asks the encoder for
/// the never-indexed representation (RFC 7541 §6.2.3), so no compression context ever holds the value.
/// </summary>
public readonly record struct HeaderField(string Name, string Value, bool NeverIndex = false)
{
    /// <summary>The RFC 7541 §4.1 size of this field: 32 + name octets + value octets.</summary>
    public int Size => HpackDynamicTable.EntryOverhead
        + System.Text.Encoding.UTF8.GetByteCount(Name)
        + System.Text.Encoding.UTF8.GetByteCount(Value);
}
