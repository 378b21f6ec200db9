using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Client;

/// <summary>A RESPONSE: status, headers, the uncompressed body, and what it cost on the wire.</summary>
public sealed class MlpResponse
{
    public required int Status { get; init; }

    public required IReadOnlyList<HeaderField> Headers { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>"tcp", "tls", "websocket" or "http" (the fallback).</summary>
    public required string Transport { get; init; }

    /// <summary>Bytes of the REQUEST frame as sent (HTTP fallback: the frame, not the HTTP envelope).</summary>
    public long BytesSent { get; init; }

    /// <summary>Bytes of the RESPONSE frame as received.</summary>
    public long BytesReceived { get; init; }

    public bool RequestCompressed { get; init; }

    /// <summary>Dictionary the request body was compressed with; 0 none.</summary>
    public uint RequestDictionaryId { get; init; }

    public bool ResponseCompressed { get; init; }

    /// <summary>Dictionary the response body was compressed with (from its zstd header); 0 none.</summary>
    public uint ResponseDictionaryId { get; init; }

    /// <summary>Long link: request flushed → RESPONSE read (an RTT sample for the quality model when the call was sent once).</summary>
    internal TimeSpan RoundTrip { get; set; }

    /// <summary>A second copy of the call was sent because the first was slow (docs/sdk.md "Retries and hedging").</summary>
    public bool Hedged { get; internal set; }

    /// <summary>This answer is the second copy's (the hedge won); false when the first copy's answer came first.</summary>
    public bool AnsweredByHedge { get; internal set; }

    /// <summary>Sends of the call before this answer: 1, plus one per resend after its path failed.</summary>
    public int Attempts { get; internal set; } = 1;

    public bool IsSuccess => Status is >= 200 and < 300;

    public string? Header(string name)
    {
        foreach (var header in Headers)
        {
            if (header.Name == name)
                return header.Value;
        }

        return null;
    }
}

/// <summary>A PUSH as the app sees it: sequence (0 for unsequenced), service and operation, headers, uncompressed body.</summary>
public sealed class MlpPush
{
    public required ulong Sequence { get; init; }

    public required string Service { get; init; }

    public required string Operation { get; init; }

    public required IReadOnlyList<HeaderField> Headers { get; init; }

    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Sent before on an earlier connection and not acknowledged: the app may have seen it.</summary>
    public bool Redelivered { get; init; }
}

/// <summary>Per-call choices.</summary>
public sealed class MlpCallOptions
{
    public IReadOnlyList<HeaderField> Headers { get; init; } = [];

    public TimeSpan? Timeout { get; init; }

    /// <summary>Executing the call twice is harmless: the client may resend it after a lost link and hedge it (docs/sdk.md "Retries and hedging").</summary>
    public bool Idempotent { get; init; }

    /// <summary>
    /// Sent as the <c>idempotency-key</c> header, which the gateway passes to the backend so it can deduplicate: a call with a key is
    /// resent and hedged like an idempotent one. Use one key per logical operation (e.g. a GUID made when the user pressed "pay").
    /// </summary>
    public string? IdempotencyKey { get; init; }

    public bool OneWay { get; init; }

    /// <summary>Use the HTTP fallback even when the long link is up.</summary>
    public bool ForceHttpFallback { get; init; }

    /// <summary>Send the body uncompressed whatever the client options say.</summary>
    public bool DisableCompression { get; init; }
}
