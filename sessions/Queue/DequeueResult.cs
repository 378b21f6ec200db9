namespace AccessLayer.Sessions.Queue;

/// <summary>Deliveries taken from an offline queue, oldest first, and how many expired ones were discarded on the way.</summary>
public sealed record DequeueResult(IReadOnlyList<DequeuedMessage> Messages, int ExpiredCount)
{
    public static DequeueResult Empty { get; } = new([], 0);
}
