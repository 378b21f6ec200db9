namespace AccessLayer.Sessions.Store;

/// <summary>
/// An outgoing QoS 1/2 delivery awaiting its acknowledgement, under the packet identifier it was sent with, and when
/// the store took it (a resend after a reconnect sends the Message Expiry Interval minus the time since; default when
/// unknown, as for one handed over by another node, whose interval was already what was left when it was sent).
/// </summary>
public readonly record struct InflightMessage(ushort PacketId, MessageDelivery Delivery, OutgoingState State, DateTimeOffset SentAt = default);
