namespace AccessLayer.Sessions.Store;

/// <summary>An outgoing QoS 1/2 delivery awaiting its acknowledgement, under the packet identifier it was sent with.</summary>
public readonly record struct InflightMessage(ushort PacketId, MessageDelivery Delivery, OutgoingState State);
