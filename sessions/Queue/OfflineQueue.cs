using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Queue;

/// <summary>
/// One session's bounded FIFO of deliveries awaiting a connection. Full: purge expired
/// messages at the head, then apply the drop policy, reporting every loss. Expired messages
/// are skipped when dequeued. Not thread-safe: the session store holds the session's lock.
/// </summary>
internal sealed class OfflineQueue(int capacity, QueueDropPolicy policy, bool queueQos0)
{
    private readonly Queue<QueuedMessage> _items = new();

    public int Count => _items.Count;

    public EnqueueResult Enqueue(MessageDelivery delivery, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery.QualityOfService == MqttQualityOfService.AtMostOnce && !queueQos0)
        {
            return new EnqueueResult(EnqueueOutcome.NotQueuedQos0);
        }

        int expired = 0;
        int dropped = 0;
        if (_items.Count >= capacity)
        {
            while (_items.TryPeek(out QueuedMessage head) && IsExpired(head, now))
            {
                _items.Dequeue();
                expired++;
            }
        }

        if (_items.Count >= capacity)
        {
            if (policy == QueueDropPolicy.DropNew || capacity == 0)
            {
                return new EnqueueResult(EnqueueOutcome.DroppedNew, 1, expired);
            }

            while (_items.Count >= capacity)
            {
                _items.Dequeue();
                dropped++;
            }
        }

        _items.Enqueue(new QueuedMessage(delivery, now));
        return new EnqueueResult(EnqueueOutcome.Queued, dropped, expired);
    }

    /// <summary>Moves up to <paramref name="maxCount"/> live deliveries, oldest first, into <paramref name="into"/>; returns how many expired ones were discarded.</summary>
    public int Dequeue(int maxCount, DateTimeOffset now, List<DequeuedMessage> into)
    {
        int expired = 0;
        int taken = 0;
        while (taken < maxCount && _items.TryDequeue(out QueuedMessage item))
        {
            uint? remaining = MessageExpiry.Remaining(item.Delivery.Message.MessageExpiryInterval, item.EnqueuedAt, now);
            if (remaining == 0)
            {
                expired++;
                continue;
            }

            into.Add(new DequeuedMessage(item.Delivery, remaining));
            taken++;
        }

        return expired;
    }

    public void Clear() => _items.Clear();

    private static bool IsExpired(in QueuedMessage item, DateTimeOffset now) =>
        MessageExpiry.IsExpired(item.Delivery.Message.MessageExpiryInterval, item.EnqueuedAt, now);
}
