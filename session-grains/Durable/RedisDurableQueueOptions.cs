namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// Settings of a <see cref="RedisDurableQueue"/>. The host builds them from <c>Fleet:ClusterId</c>
/// (<see cref="KeyPrefixFor"/>) and <c>Mqtt:MaxQueuedMessages</c>; <see cref="Validate"/> runs in the constructor.
/// </summary>
internal sealed class RedisDurableQueueOptions
{
    /// <summary>Prefix of every key, <c>al:{clusterId}:</c>, so fleets sharing one Redis stay apart.</summary>
    public required string KeyPrefix { get; init; }

    /// <summary>Entries kept per client; an append past it drops the oldest (counted). Default 1000, as <c>Mqtt:MaxQueuedMessages</c>.</summary>
    public int MaxEntriesPerClient { get; init; } = 1000;

    /// <summary>Longest a caller waits for Redis (room in the pending queue, then the commit) before its call faults with <see cref="DurableQueueUnavailableException"/>. Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Redis commands per group commit (one per client of an append, per acknowledgement, per delete); a batch holds at least one operation. Default 1024.</summary>
    public int MaxBatchCommands { get; init; } = 1024;

    /// <summary>Operations waiting for a commit past which callers wait (back-pressure). Default 65,536.</summary>
    public int MaxPendingOperations { get; init; } = 65_536;

    /// <summary>Bytes those operations may hold (deliveries, ids, client ids) past which callers wait, as for <see cref="MaxPendingOperations"/>; one larger operation is let in alone. Default 64 MiB.</summary>
    public long MaxPendingBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Redis database number; -1 is the connection's default.</summary>
    public int Database { get; init; } = -1;

    public static string KeyPrefixFor(string clusterId) => $"al:{clusterId}:";

    public void Validate()
    {
        if (string.IsNullOrEmpty(KeyPrefix))
        {
            throw new ArgumentException("KeyPrefix is required (al:{clusterId}:).", nameof(KeyPrefix));
        }

        if (MaxEntriesPerClient < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEntriesPerClient), MaxEntriesPerClient, "At least 1.");
        }

        if (Timeout <= TimeSpan.Zero || Timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "A positive, finite duration.");
        }

        if (MaxBatchCommands < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchCommands), MaxBatchCommands, "At least 1.");
        }

        if (MaxPendingOperations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPendingOperations), MaxPendingOperations, "At least 1.");
        }

        if (MaxPendingBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPendingBytes), MaxPendingBytes, "At least 1.");
        }
    }
}
