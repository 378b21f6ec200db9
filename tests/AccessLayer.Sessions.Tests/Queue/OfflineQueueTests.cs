using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Tests.Queue;

public class OfflineQueueTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Dequeue_returns_messages_oldest_first()
    {
        var queue = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: false);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued), queue.Enqueue(Delivery($"m{i}"), T0));
        }

        var taken = new List<DequeuedMessage>();
        Assert.Equal(0, queue.Dequeue(2, T0, taken));
        Assert.Equal(["m0", "m1"], taken.Select(d => d.Delivery.Message.Topic));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void Enqueue_over_bound_drops_oldest_and_counts_each_drop()
    {
        var queue = new OfflineQueue(3, QueueDropPolicy.DropOldest, queueQos0: false);
        for (int i = 0; i < 3; i++)
        {
            queue.Enqueue(Delivery($"m{i}"), T0);
        }

        EnqueueResult fourth = queue.Enqueue(Delivery("m3"), T0);
        EnqueueResult fifth = queue.Enqueue(Delivery("m4"), T0);

        Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued, DroppedCount: 1), fourth);
        Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued, DroppedCount: 1), fifth);
        Assert.Equal(3, queue.Count);
        Assert.Equal(["m2", "m3", "m4"], DrainTopics(queue, T0));
    }

    [Fact]
    public void Dropped_deliveries_that_carry_a_durable_id_are_counted_as_deferred()
    {
        var queue = new OfflineQueue(2, QueueDropPolicy.DropOldest, queueQos0: false);
        queue.Enqueue(Delivery("durable") with { DurableId = Guid.CreateVersion7() }, T0);
        queue.Enqueue(Delivery("plain"), T0);

        EnqueueResult durableDropped = queue.Enqueue(Delivery("m2"), T0);
        EnqueueResult plainDropped = queue.Enqueue(Delivery("m3"), T0);

        Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued, DroppedCount: 1, DeferredCount: 1), durableDropped);
        Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued, DroppedCount: 1, DeferredCount: 0), plainDropped);
    }

    [Fact]
    public void A_refused_new_delivery_with_a_durable_id_is_counted_as_deferred()
    {
        var queue = new OfflineQueue(1, QueueDropPolicy.DropNew, queueQos0: false);
        queue.Enqueue(Delivery("m0"), T0);

        var refused = queue.Enqueue(Delivery("durable") with { DurableId = Guid.CreateVersion7() }, T0);

        Assert.Equal(new EnqueueResult(EnqueueOutcome.DroppedNew, DroppedCount: 1, DeferredCount: 1), refused);
    }

    [Fact]
    public void Enqueue_over_bound_with_drop_new_refuses_the_new_message()
    {
        var queue = new OfflineQueue(2, QueueDropPolicy.DropNew, queueQos0: false);
        queue.Enqueue(Delivery("m0"), T0);
        queue.Enqueue(Delivery("m1"), T0);

        EnqueueResult refused = queue.Enqueue(Delivery("m2"), T0);

        Assert.Equal(EnqueueOutcome.DroppedNew, refused.Outcome);
        Assert.Equal(1, refused.DroppedCount);
        Assert.False(refused.IsQueued);
        Assert.Equal(["m0", "m1"], DrainTopics(queue, T0));
    }

    [Fact]
    public void Enqueue_with_zero_capacity_queues_nothing()
    {
        var queue = new OfflineQueue(0, QueueDropPolicy.DropOldest, queueQos0: true);
        Assert.Equal(EnqueueOutcome.DroppedNew, queue.Enqueue(Delivery("m"), T0).Outcome);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Enqueue_when_full_purges_expired_head_before_dropping_live_messages()
    {
        var queue = new OfflineQueue(2, QueueDropPolicy.DropOldest, queueQos0: false);
        queue.Enqueue(Delivery("short", expiry: 5), T0);
        queue.Enqueue(Delivery("long", expiry: 100), T0);

        EnqueueResult result = queue.Enqueue(Delivery("new"), T0.AddSeconds(10));

        Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued, DroppedCount: 0, ExpiredCount: 1), result);
        Assert.Equal(["long", "new"], DrainTopics(queue, T0.AddSeconds(10)));
    }

    [Fact]
    public void Qos0_is_queued_only_when_configured()
    {
        var off = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: false);
        var on = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: true);

        Assert.Equal(EnqueueOutcome.NotQueuedQos0, off.Enqueue(Delivery("q0", qos: MqttQualityOfService.AtMostOnce), T0).Outcome);
        Assert.Equal(0, off.Count);
        Assert.Equal(EnqueueOutcome.Queued, on.Enqueue(Delivery("q0", qos: MqttQualityOfService.AtMostOnce), T0).Outcome);
        Assert.Equal(1, on.Count);
    }

    [Fact]
    public void Dequeue_skips_expired_messages_and_reports_remaining_expiry()
    {
        var queue = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: false);
        queue.Enqueue(Delivery("gone", expiry: 10), T0);
        queue.Enqueue(Delivery("forever"), T0);
        queue.Enqueue(Delivery("later", expiry: 60), T0.AddSeconds(5));

        var taken = new List<DequeuedMessage>();
        int expired = queue.Dequeue(10, T0.AddSeconds(10), taken);

        Assert.Equal(1, expired);
        Assert.Equal(["forever", "later"], taken.Select(d => d.Delivery.Message.Topic));
        Assert.Null(taken[0].RemainingExpiryInterval);
        Assert.Equal(55u, taken[1].RemainingExpiryInterval);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Dequeue_does_not_count_expired_toward_max_count()
    {
        var queue = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: false);
        queue.Enqueue(Delivery("gone1", expiry: 1), T0);
        queue.Enqueue(Delivery("gone2", expiry: 1), T0);
        queue.Enqueue(Delivery("live"), T0);
        queue.Enqueue(Delivery("next"), T0);

        var taken = new List<DequeuedMessage>();
        Assert.Equal(2, queue.Dequeue(1, T0.AddSeconds(2), taken));
        Assert.Equal(["live"], taken.Select(d => d.Delivery.Message.Topic));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void The_byte_bound_drops_the_oldest_until_the_new_message_fits()
    {
        // Each delivery counts payload plus topic: 98 + 2 = 100 bytes.
        var queue = new OfflineQueue(100, QueueDropPolicy.DropOldest, queueQos0: false, maxBytes: 250);
        queue.Enqueue(Sized("m0", 98), T0);
        queue.Enqueue(Sized("m1", 98), T0);

        EnqueueResult third = queue.Enqueue(Sized("m2", 98), T0);

        Assert.Equal(new EnqueueResult(EnqueueOutcome.Queued, DroppedCount: 1), third);
        Assert.Equal(200, queue.Bytes);
        Assert.Equal(["m1", "m2"], DrainTopics(queue, T0));
        Assert.Equal(0, queue.Bytes);
    }

    [Fact]
    public void The_byte_bound_with_drop_new_refuses_the_new_message()
    {
        var queue = new OfflineQueue(100, QueueDropPolicy.DropNew, queueQos0: false, maxBytes: 250);
        queue.Enqueue(Sized("m0", 98), T0);
        queue.Enqueue(Sized("m1", 98), T0);

        Assert.Equal(new EnqueueResult(EnqueueOutcome.DroppedNew, DroppedCount: 1), queue.Enqueue(Sized("m2", 98), T0));
        Assert.Equal(["m0", "m1"], DrainTopics(queue, T0));
    }

    [Fact]
    public void A_message_alone_over_the_byte_bound_is_refused_and_the_queue_kept()
    {
        var queue = new OfflineQueue(100, QueueDropPolicy.DropOldest, queueQos0: false, maxBytes: 250);
        queue.Enqueue(Sized("m0", 98), T0);

        Assert.Equal(new EnqueueResult(EnqueueOutcome.DroppedNew, DroppedCount: 1), queue.Enqueue(Sized("big", 300), T0));
        Assert.Equal(["m0"], DrainTopics(queue, T0));
    }

    private static MessageDelivery Sized(string topic, int payload) => new()
    {
        Message = new MqttApplicationMessage { Topic = topic, Payload = new byte[payload], QualityOfService = MqttQualityOfService.AtLeastOnce },
        QualityOfService = MqttQualityOfService.AtLeastOnce,
    };

    private static List<string> DrainTopics(OfflineQueue queue, DateTimeOffset now)
    {
        var taken = new List<DequeuedMessage>();
        queue.Dequeue(int.MaxValue, now, taken);
        return taken.Select(d => d.Delivery.Message.Topic).ToList();
    }

    internal static MessageDelivery Delivery(string topic, uint? expiry = null, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce) => new()
    {
        Message = new MqttApplicationMessage { Topic = topic, Payload = new byte[] { 1 }, QualityOfService = qos, MessageExpiryInterval = expiry },
        QualityOfService = qos,
    };
}
