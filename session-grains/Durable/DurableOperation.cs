namespace AccessLayer.SessionGrains.Durable;

internal enum DurableOperationKind
{
    Append,
    Acknowledge,
    Delete,
}

/// <summary>
/// One write waiting for a group commit: one Redis command per client. Owns copies of what it
/// writes, so a caller that gave up (timed out) may reuse its buffers while the commit still runs.
/// </summary>
internal sealed class DurableOperation(DurableOperationKind kind, string[] clientIds, byte[] field, byte[]? delivery)
{
    public DurableOperationKind Kind { get; } = kind;

    public string[] ClientIds { get; } = clientIds;

    /// <summary>The entry id as a hash field (<see cref="DurableKeys.Field"/>); empty for a delete.</summary>
    public byte[] Field { get; } = field;

    public byte[]? Delivery { get; } = delivery;

    /// <summary>Bytes it holds while it waits, roughly: what <see cref="RedisDurableQueueOptions.MaxPendingBytes"/> counts.</summary>
    public long Weight { get; } = 64 + field.Length + (delivery?.Length ?? 0) + clientIds.Sum(id => 64L + (2L * id.Length));

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Describe => Kind switch
    {
        DurableOperationKind.Append => "append",
        DurableOperationKind.Acknowledge => "acknowledgement",
        _ => "delete",
    };
}
