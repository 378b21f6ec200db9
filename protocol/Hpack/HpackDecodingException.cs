namespace AccessLayer.Protocol.Hpack;

/// <summary>A header block that violates RFC 7541 or a configured limit.</summary>
public sealed class HpackDecodingException : Exception
{
    public HpackDecodingException()
        : this(HpackErrorKind.Truncated, "Invalid HPACK header block.")
    {
    }

    public HpackDecodingException(string message)
        : this(HpackErrorKind.Truncated, message)
    {
    }

    public HpackDecodingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HpackDecodingException(HpackErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public HpackErrorKind Kind { get; }

    /// <summary>
    /// True for a compression error (HTTP/2 COMPRESSION_ERROR): the decoding context is lost and the
    /// connection must close. False only for <see cref="HpackErrorKind.HeaderListTooLarge"/>, which
    /// rejects one request but leaves the context usable.
    /// </summary>
    public bool IsConnectionError => Kind != HpackErrorKind.HeaderListTooLarge;
}
