using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// A PUBLISH one node forwards to another: the message, who published it (No Local), whether
/// the receiving node delivers it to its plain subscribers, which shared-subscription groups the
/// sender picked that node for, and the durable id when the message also sits in durable queues.
/// </summary>
public sealed record ForwardedMessage(
    MqttApplicationMessage Message,
    string? PublisherClientId,
    bool PlainSubscribers,
    IReadOnlyList<string> ShareGroups,
    Guid DurableId);
