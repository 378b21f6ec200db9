using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Queue;

/// <summary>
/// One session's bounded FIFO of deliveries awaiting a connection, by count and by bytes (payload
/// plus topic; <paramref name="maxBytes"/> 0 is no byte bound). Full: purge expired messages at the
/// head, then apply the drop policy, reporting every loss. Expired messages are skipped when
/// dequeued. Not thread-safe: the session store holds the session's lock.
/// </summary>
internal sealed class OfflineQueue(int capacity, QueueDropPolicy policy, bool queueQos0, long maxBytes = 0)
{
    private readonly Queue<QueuedMessage> _items = new();
    private long _bytes;

    public int Count => _items.Count;

    /// <summary>Bytes of the queued messages, as the byte bound counts them.</summary>
    public long Bytes => _bytes;

    internal static long SizeOf(MessageDelivery delivery) => delivery.Message.Payload.Length + delivery.Message.Topic.Length;

    public EnqueueResult Enqueue(MessageDelivery delivery, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery.QualityOfService == MqttQualityOfService.AtMostOnce && !queueQos0)
        {
            return new EnqueueResult(EnqueueOutcome.NotQueuedQos0);
        }

        int expired = 0;
        int dropped = 0;
        int deferred = 0;
        long size = SizeOf(delivery);
        if (maxBytes > 0 && size > maxBytes)
        {
            // Alone over the byte bound: dropping everything older would not make room.
            return new EnqueueResult(EnqueueOutcome.DroppedNew, 1, DeferredCount: IsDurable(delivery));
        }

        if (IsFull(size))
        {
            while (_items.TryPeek(out QueuedMessage head) && IsExpired(head, now))
            {
                Remove();
                expired++;
            }
        }

        if (IsFull(size))
        {
            if (policy == QueueDropPolicy.DropNew || capacity == 0)
            {
                return new EnqueueResult(EnqueueOutcome.DroppedNew, 1, expired, IsDurable(delivery));
            }

            while (IsFull(size))
            {
                deferred += IsDurable(Remove());
                dropped++;
            }
        }

        _items.Enqueue(new QueuedMessage(delivery, now));
        _bytes += size;
        return new EnqueueResult(EnqueueOutcome.Queued, dropped, expired, deferred);
    }

    private static int IsDurable(MessageDelivery delivery) => delivery.DurableId == Guid.Empty ? 0 : 1;

    private bool IsFull(long incoming) => _items.Count >= capacity || (maxBytes > 0 && _bytes + incoming > maxBytes);

    private MessageDelivery Remove()
    {
        var delivery = _items.Dequeue().Delivery;
        _bytes -= SizeOf(delivery);
        return delivery;
    }

    /// <summary>Moves up to <paramref name="maxCount"/> live deliveries, oldest first, into <paramref name="into"/>; returns how many expired ones were discarded.</summary>
    public int Dequeue(int maxCount, DateTimeOffset now, List<DequeuedMessage> into)
    {
        int expired = 0;
        int taken = 0;
        while (taken < maxCount && _items.TryDequeue(out QueuedMessage item))
        {
            _bytes -= SizeOf(item.Delivery);
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

    public void Clear()
    {
        _items.Clear();
        _bytes = 0;
    }

    private static bool IsExpired(in QueuedMessage item, DateTimeOffset now) =>
        MessageExpiry.IsExpired(item.Delivery.Message.MessageExpiryInterval, item.EnqueuedAt, now);
}
