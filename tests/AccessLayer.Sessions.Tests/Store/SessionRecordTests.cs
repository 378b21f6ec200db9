using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Tests.Store;

/// <summary>SessionRecord keeps expiry as UTC ticks and the rarely used state out of line; what callers read back must not change.</summary>
public class SessionRecordTests
{
    [Fact]
    public void A_new_record_has_no_deadlines_and_no_persisted_state()
    {
        var record = new SessionRecord("dev");

        Assert.Equal("dev", record.ClientId);
        Assert.Equal(DateTimeOffset.MaxValue, record.ExpiresAt);
        Assert.Equal(DateTimeOffset.MaxValue, record.WillDueAt);
        Assert.Null(record.DisconnectedAt);
        Assert.Null(record.Will);
        Assert.Null(record.Subscriptions);
        Assert.Null(record.Inflight);
        Assert.Null(record.Incoming);
        Assert.Null(record.Queue);
        Assert.Equal(0, record.InflightSequence);
        Assert.Equal(0, record.LastPacketId);
    }

    [Fact]
    public void Every_property_reads_back_what_was_written()
    {
        var at = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var will = new WillMessage(new MqttApplicationMessage { Topic = "will" }, 5);
        var subscriptions = new Dictionary<string, SubscriptionOptions>();
        var inflight = new Dictionary<ushort, (long Sequence, InflightMessage Message)>();
        var incoming = new HashSet<ushort> { 7 };
        var queue = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: false);
        var record = new SessionRecord("dev")
        {
            ExpiresAt = at,
            DisconnectedAt = at.AddSeconds(-1),
            Will = will,
            WillDueAt = at.AddSeconds(-2),
            Subscriptions = subscriptions,
            Inflight = inflight,
            InflightSequence = 42,
            LastPacketId = 9,
            Incoming = incoming,
            Queue = queue,
        };

        Assert.Equal(at, record.ExpiresAt);
        Assert.Equal(at.AddSeconds(-1), record.DisconnectedAt);
        Assert.Same(will, record.Will);
        Assert.Equal(at.AddSeconds(-2), record.WillDueAt);
        Assert.Same(subscriptions, record.Subscriptions);
        Assert.Same(inflight, record.Inflight);
        Assert.Equal(42, record.InflightSequence);
        Assert.Equal(9, record.LastPacketId);
        Assert.Same(incoming, record.Incoming);
        Assert.Same(queue, record.Queue);

        record.DisconnectedAt = null;
        record.WillDueAt = DateTimeOffset.MaxValue;
        Assert.Null(record.DisconnectedAt);
        Assert.Equal(DateTimeOffset.MaxValue, record.WillDueAt);
    }

    [Fact]
    public void ExpiresAt_keeps_the_instant_of_a_time_given_with_an_offset()
    {
        var local = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));
        var record = new SessionRecord("dev") { ExpiresAt = local };

        Assert.Equal(local, record.ExpiresAt);
        Assert.Equal(local.UtcTicks, record.ExpiresAt.UtcTicks);
    }

    [Fact]
    public void ResetState_discards_what_the_session_persisted_but_not_when_it_disconnected()
    {
        var at = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var record = new SessionRecord("dev")
        {
            DisconnectedAt = at,
            Will = new WillMessage(new MqttApplicationMessage { Topic = "will" }, 0),
            WillDueAt = at,
            Subscriptions = [],
            Inflight = [],
            InflightSequence = 3,
            LastPacketId = 4,
            Incoming = [1],
            Queue = new OfflineQueue(10, QueueDropPolicy.DropOldest, queueQos0: false),
        };

        record.ResetState();

        Assert.Equal(at, record.DisconnectedAt);
        Assert.Null(record.Will);
        Assert.Equal(DateTimeOffset.MaxValue, record.WillDueAt);
        Assert.Null(record.Subscriptions);
        Assert.Null(record.Inflight);
        Assert.Equal(0, record.InflightSequence);
        Assert.Equal(0, record.LastPacketId);
        Assert.Null(record.Incoming);
        Assert.Null(record.Queue);
    }

    [Fact]
    public void The_holder_reads_back_and_an_anonymous_session_on_one_node_keeps_none()
    {
        var record = new SessionRecord("dev");
        record.SetHolder("alice", null);
        Assert.Equal(("alice", (string?)null), (record.Owner, record.NodeId));

        record.SetHolder("alice", "node-a");
        Assert.Equal(("alice", "node-a"), (record.Owner, record.NodeId));

        record.SetHolder(null, null);
        Assert.Null(record.Owner);
        Assert.Null(record.NodeId);
    }
}
