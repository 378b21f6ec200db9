using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

internal enum OutboundKind : byte
{
    /// <summary>Write a packet as is (acknowledgements to the client, PINGRESP, CONNACK, SUBACK, UNSUBACK, DISCONNECT).</summary>
    Packet,

    /// <summary>Deliver an application message: QoS 1/2 pass the session's inflight window first.</summary>
    Deliver,

    /// <summary>The client acknowledged one of our QoS 1/2 PUBLISHes (PUBACK, PUBREC, PUBCOMP).</summary>
    AckReceived,

    /// <summary>The session was resumed: resend its inflight messages, then drain its queue.</summary>
    Resume,

    /// <summary>The session queue has QoS 1/2 messages for this client; pull them through the inflight window.</summary>
    DrainQueue,
}

/// <summary>
/// One unit of work for a connection's outbound actor. A struct so that queuing a delivery or
/// an acknowledgement allocates nothing: the shared message is referenced, never copied.
/// </summary>
internal readonly struct OutboundItem
{
    private OutboundItem(OutboundKind kind, MqttPacketType type, MqttApplicationMessage? message, object? control, ushort packetId, MqttReasonCode reasonCode, MqttQualityOfService qos, bool retain, uint[]? subscriptionIdentifiers, uint? messageExpiry)
    {
        Kind = kind;
        Type = type;
        Message = message;
        Control = control;
        PacketId = packetId;
        ReasonCode = reasonCode;
        QualityOfService = qos;
        Retain = retain;
        SubscriptionIdentifiers = subscriptionIdentifiers;
        MessageExpiryInterval = messageExpiry;
    }

    public OutboundKind Kind { get; }

    public MqttPacketType Type { get; }

    public MqttApplicationMessage? Message { get; }

    /// <summary>A control packet object (CONNACK, SUBACK, UNSUBACK, DISCONNECT) or the resumed <see cref="SessionState"/>.</summary>
    public object? Control { get; }

    public ushort PacketId { get; }

    public MqttReasonCode ReasonCode { get; }

    public MqttQualityOfService QualityOfService { get; }

    public bool Retain { get; }

    public uint[]? SubscriptionIdentifiers { get; }

    /// <summary>Remaining expiry (seconds) to send instead of the message's original interval.</summary>
    public uint? MessageExpiryInterval { get; }

    public static OutboundItem Deliver(MqttApplicationMessage message, MqttQualityOfService qos, bool retain, uint[]? subscriptionIdentifiers, uint? remainingExpiry = null) =>
        new(OutboundKind.Deliver, MqttPacketType.Publish, message, null, 0, default, qos, retain, subscriptionIdentifiers, remainingExpiry);

    public static OutboundItem Ack(MqttPacketType type, ushort packetId, MqttReasonCode reasonCode = MqttReasonCode.Success) =>
        new(OutboundKind.Packet, type, null, null, packetId, reasonCode, default, false, null, null);

    public static OutboundItem AckReceived(MqttPacketType type, ushort packetId, MqttReasonCode reasonCode) =>
        new(OutboundKind.AckReceived, type, null, null, packetId, reasonCode, default, false, null, null);

    public static OutboundItem ControlPacket(MqttPacketType type, object packet) =>
        new(OutboundKind.Packet, type, null, packet, 0, default, default, false, null, null);

    public static OutboundItem Resume(SessionState? state) =>
        new(OutboundKind.Resume, default, null, state, 0, default, default, false, null, null);

    public static OutboundItem DrainQueue { get; } = new(OutboundKind.DrainQueue, default, null, null, 0, default, default, false, null, null);

    public static OutboundItem PingResp { get; } = new(OutboundKind.Packet, MqttPacketType.PingResp, null, null, 0, default, default, false, null, null);
}
