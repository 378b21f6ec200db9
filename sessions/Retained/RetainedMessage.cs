using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Retained;

/// <summary>
/// A retained message as a match returns it: the message, when it was stored, and the Message
/// Expiry Interval to send now (the stored interval less the time it has been retained; null
/// when it does not expire).
/// </summary>
public readonly record struct RetainedMessage(MqttApplicationMessage Message, DateTimeOffset StoredAt, uint? RemainingExpiryInterval);
