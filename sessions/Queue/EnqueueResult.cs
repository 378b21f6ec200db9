namespace AccessLayer.Sessions.Queue;

/// <summary>
/// What an enqueue did. <see cref="DroppedCount"/> counts messages lost to the bound (the
/// oldest evicted, or this one refused) and <see cref="ExpiredCount"/> expired messages purged
/// from the head to make room; the gateway adds both to its metrics. <see cref="DeferredCount"/> says how many of
/// the dropped ones carried a durable id (<see cref="Store.MessageDelivery.DurableId"/>): a copy is kept elsewhere
/// (a fleet's Redis queue), so they are not lost but owed to the session again once its queue has room.
/// </summary>
public readonly record struct EnqueueResult(EnqueueOutcome Outcome, int DroppedCount = 0, int ExpiredCount = 0, int DeferredCount = 0)
{
    public bool IsQueued => Outcome == EnqueueOutcome.Queued;
}
