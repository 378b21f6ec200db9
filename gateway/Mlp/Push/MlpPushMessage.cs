using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Mlp.Push;

/// <summary>
/// One downlink as the push API accepted it: the PUSH header fields (<c>:service</c>, <c>:operation</c>
/// and any others) and the uncompressed body. Immutable and shared, never copied per delivery.
/// </summary>
public sealed class MlpPushMessage
{
    public MlpPushMessage(IReadOnlyList<HeaderField> headers, ReadOnlyMemory<byte> body, DateTimeOffset acceptedAt, string? userId = null)
    {
        Headers = headers;
        Body = body;
        AcceptedAt = acceptedAt;
        UserId = userId;
        var size = (long)body.Length;
        foreach (var header in headers)
            size += 32 + header.Name.Length + header.Value.Length;
        Size = size;
    }

    public IReadOnlyList<HeaderField> Headers { get; }

    public ReadOnlyMemory<byte> Body { get; }

    public DateTimeOffset AcceptedAt { get; }

    /// <summary>The user the push was addressed to, or null when it named the device: a device that logs in as another user loses it.</summary>
    public string? UserId { get; }

    /// <summary>What the push counts against the store's byte bounds: the body plus each header as HPACK sizes it (32 + name + value).</summary>
    public long Size { get; }
}

/// <summary>A push with its place in the session's sequence; <see cref="Redelivered"/> when an earlier connection already carried it.</summary>
public readonly record struct MlpSequencedPush(ulong Sequence, MlpPushMessage Message, bool Redelivered);

/// <summary>Names one connection's hold on a device's session: stale generations (taken over connections) take nothing.</summary>
public sealed record MlpSessionHandle(string DeviceId, string SessionId, long Generation);

/// <summary>
/// The session a HELLO opened: resumed (push sequences continue, <see cref="Redeliver"/> holds the
/// pushes sent before and not acknowledged) or new (sequences restart at 1; anything the device
/// had not acknowledged waits to be sent again with fresh numbers).
/// </summary>
public sealed record MlpSessionOpenResult(MlpSessionHandle Handle, bool Resumed, IReadOnlyList<MlpSequencedPush> Redeliver);

public enum MlpEnqueueOutcome
{
    /// <summary>Queued; nothing was dropped.</summary>
    Queued,

    /// <summary>Queued after the oldest waiting push was dropped to stay within the bound.</summary>
    QueuedDroppedOldest,

    /// <summary>Not queued: the device's queue is full of pushes already sent and unacknowledged, or the push alone is over the device's byte bound.</summary>
    Rejected,

    /// <summary>Not queued: the store holds <c>Mlp:MaxPushStoreBytes</c> already.</summary>
    RejectedStoreFull,

    /// <summary>Not queued: the device is unknown and the store keeps <c>Mlp:MaxPushDevices</c> devices already.</summary>
    RejectedTooManyDevices,
}
