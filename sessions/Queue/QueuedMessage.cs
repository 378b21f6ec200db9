using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Queue;

/// <summary>A delivery waiting in an offline queue, with its arrival time (the start of its Message Expiry Interval).</summary>
public readonly record struct QueuedMessage(MessageDelivery Delivery, DateTimeOffset EnqueuedAt);
