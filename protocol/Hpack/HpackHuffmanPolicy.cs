namespace AccessLayer.Protocol.Hpack;

/// <summary>When the encoder Huffman-codes a string literal.</summary>
public enum HpackHuffmanPolicy
{
    /// <summary>Huffman only when strictly shorter than the raw octets (the default).</summary>
    WhenShorter,

    /// <summary>Always Huffman (matches RFC 7541 Appendix C.4 / C.6).</summary>
    Always,

    /// <summary>Never Huffman (matches RFC 7541 Appendix C.3 / C.5).</summary>
    Never,
}
