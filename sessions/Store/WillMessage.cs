using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Store;

/// <summary>A Will Message with its Will Delay Interval in seconds (MQTT 5.0 3.1.3.2.2; 0 for 3.1.1).</summary>
public sealed record WillMessage(MqttApplicationMessage Message, uint DelayInterval = 0);
