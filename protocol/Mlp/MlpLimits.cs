namespace AccessLayer.Protocol.Mlp;

/// <summary>
/// The numbers of docs/protocol.md §Limits. A default is also the least a server may
/// announce, because a client may send frames before it has read the WELCOME.
/// </summary>
public static class MlpLimits
{
    public const uint ProtocolVersion = 1;

    /// <summary>The HELLO is read before anything is negotiated, against this fixed bound.</summary>
    public const int MaxHelloFrameSize = 16 * 1024;

    public const int DefaultMaxFrameSize = 128 * 1024;

    /// <summary>The least max_frame_size a client may announce in its HELLO.</summary>
    public const int MinMaxFrameSize = 16 * 1024;

    public const int AbsoluteMaxFrameSize = 16 * 1024 * 1024;

    public const int DefaultMaxBodySize = 1024 * 1024;

    /// <summary>The least max_body_size a client may announce in its HELLO.</summary>
    public const int MinMaxBodySize = 64 * 1024;

    public const int AbsoluteMaxBodySize = 64 * 1024 * 1024;

    public const int DefaultHpackTableSize = 4096;

    public const int MaxHpackTableSize = 64 * 1024;

    public const int DefaultMaxConcurrentStreams = 100;

    public const int DefaultPushWindow = 64;

    public const uint MaxStreamId = int.MaxValue;

    public const int MaxPingPayload = 8;

    /// <summary>Response statuses use HTTP semantics and three digits.</summary>
    public const int MinStatus = 100;

    public const int MaxStatus = 999;

    /// <summary>The largest zstd dictionary a DICT frame carries; it always fits the default frame size.</summary>
    public const int MaxDictionarySize = 112 * 1024;

    /// <summary>Most dictionary ids a HELLO lists.</summary>
    public const int MaxAnnouncedDictionaries = 16;

    public const int MaxResumeTicketSize = 512;

    /// <summary>A frame header is one byte plus a varint of at most 4 bytes.</summary>
    public const int MaxFrameHeaderSize = 5;
}
