using AccessLayer.Sessions.Topics;

namespace AccessLayer.Sessions;

/// <summary>Bounds of the session layer; the gateway binds them from the <c>Sessions</c> configuration section.</summary>
public sealed class SessionsOptions
{
    public const string SectionName = "Sessions";

    /// <summary>Messages kept per offline session before <see cref="QueueDropPolicy"/> applies; 0 queues nothing.</summary>
    public int MaxQueuedMessagesPerSession { get; set; } = 1000;

    public QueueDropPolicy QueueDropPolicy { get; set; } = QueueDropPolicy.DropOldest;

    /// <summary>Whether QoS 0 deliveries are queued for offline sessions (the spec makes it optional, 3.1.2.4).</summary>
    public bool QueueQos0Messages { get; set; }

    /// <summary>Outgoing QoS 1/2 messages awaiting acknowledgement per session (further capped by the client's Receive Maximum).</summary>
    public int MaxInflightMessages { get; set; } = 100;

    /// <summary>Levels allowed in a subscription filter; bounds the topic trie's depth.</summary>
    public int MaxTopicLevels { get; set; } = TopicFilter.DefaultMaxLevels;
}
