using AccessLayer.Sessions.Topics;

namespace AccessLayer.Sessions;

/// <summary>Bounds of the session layer; the gateway binds them from the <c>Sessions</c> configuration section.</summary>
public sealed class SessionsOptions
{
    public const string SectionName = "Sessions";

    /// <summary>Messages kept per offline session before <see cref="QueueDropPolicy"/> applies; 0 queues nothing.</summary>
    public int MaxQueuedMessagesPerSession { get; set; } = 1000;

    public QueueDropPolicy QueueDropPolicy { get; set; } = QueueDropPolicy.DropOldest;

    /// <summary>Bytes (payload plus topic) kept per session queue; past it <see cref="QueueDropPolicy"/> applies as for the count. 0: no byte bound.</summary>
    public long MaxQueuedBytesPerSession { get; set; } = 64 * 1024 * 1024;

    /// <summary>Sessions held, connected or not; a CONNECT that would create one more is refused (5.0: 0x97 Quota exceeded). 0: no bound.</summary>
    public int MaxSessions { get; set; } = 1_000_000;

    /// <summary>Retained messages held; past it a retained PUBLISH to a new topic is routed but not retained (replacing one still works). 0: no bound.</summary>
    public int MaxRetainedMessages { get; set; } = 1_000_000;

    /// <summary>Bytes (payload plus topic) of retained messages held; a retained PUBLISH that would pass it is routed but not retained. 0: no bound.</summary>
    public long MaxRetainedBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Whether QoS 0 deliveries are queued for offline sessions (the spec makes it optional, 3.1.2.4).</summary>
    public bool QueueQos0Messages { get; set; }

    /// <summary>Outgoing QoS 1/2 messages awaiting acknowledgement per session (further capped by the client's Receive Maximum).</summary>
    public int MaxInflightMessages { get; set; } = 100;

    /// <summary>Levels allowed in a subscription filter; bounds the topic trie's depth.</summary>
    public int MaxTopicLevels { get; set; } = TopicFilter.DefaultMaxLevels;
}
