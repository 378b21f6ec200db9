using AccessLayer.Sessions.Store;

namespace AccessLayer.Sessions.Queue;

/// <summary>
/// A delivery taken from an offline queue. <see cref="RemainingExpiryInterval"/> is the Message
/// Expiry Interval to send (MQTT 5.0 3.3.2.3.3: the received value less the time it waited),
/// null when the message does not expire.
/// </summary>
public readonly record struct DequeuedMessage(MessageDelivery Delivery, uint? RemainingExpiryInterval);
