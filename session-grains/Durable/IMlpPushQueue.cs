namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// Where an MLP device's session waits in Redis while the device is offline: the session a node released
/// (encoded by the gateway: session id, sequence counter, pushes sent and not acknowledged, pushes waiting)
/// and the pushes that arrived since, oldest first. The node taking the device's next connection takes both
/// at once. Keyed by device id; bounded by count per device and by an expiry renewed on every write.
/// </summary>
public interface IMlpPushQueue
{
    /// <summary>Stores the released session of a device (replacing an older one).</summary>
    ValueTask SaveSessionAsync(string deviceId, byte[] session, CancellationToken cancellationToken = default);

    /// <summary>Appends a push; returns how many of the oldest were dropped to stay within the bound.</summary>
    ValueTask<int> AppendAsync(string deviceId, byte[] push, CancellationToken cancellationToken = default);

    /// <summary>Puts pushes back in front of the queue, in the order given (a node that lost a race for the device returns what it took).</summary>
    ValueTask PrependAsync(string deviceId, IReadOnlyList<byte[]> pushes, CancellationToken cancellationToken = default);

    /// <summary>Takes (reads and deletes, atomically) the device's saved session and queued pushes.</summary>
    ValueTask<MlpQueuedSession> TakeAsync(string deviceId, CancellationToken cancellationToken = default);
}

/// <summary>A device's saved session (null when none) and the pushes queued after it, oldest first.</summary>
public sealed record MlpQueuedSession(byte[]? Session, IReadOnlyList<byte[]> Pushes)
{
    public bool IsEmpty => Session is null && Pushes.Count == 0;
}
