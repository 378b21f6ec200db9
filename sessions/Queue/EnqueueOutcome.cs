namespace AccessLayer.Sessions.Queue;

public enum EnqueueOutcome
{
    /// <summary>Queued (with <see cref="QueueDropPolicy.DropOldest"/> an older message may have been dropped; see the counts).</summary>
    Queued = 0,

    /// <summary>The queue was full and the policy is <see cref="QueueDropPolicy.DropNew"/>: this message was dropped.</summary>
    DroppedNew = 1,

    /// <summary>A QoS 0 delivery and QoS 0 queueing is off.</summary>
    NotQueuedQos0 = 2,

    /// <summary>No session exists for the client id.</summary>
    NoSession = 3,
}
