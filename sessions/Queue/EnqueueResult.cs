namespace AccessLayer.Sessions.Queue;

/// <summary>
/// What an enqueue did. <see cref="DroppedCount"/> counts messages lost to the bound (the
/// oldest evicted, or this one refused) and <see cref="ExpiredCount"/> expired messages purged
/// from the head to make room; the gateway adds both to its metrics.
/// </summary>
public readonly record struct EnqueueResult(EnqueueOutcome Outcome, int DroppedCount = 0, int ExpiredCount = 0)
{
    public bool IsQueued => Outcome == EnqueueOutcome.Queued;
}
