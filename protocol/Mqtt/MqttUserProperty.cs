namespace AccessLayer.Protocol.Mqtt;

/// <summary>An MQTT 5.0 user property (a UTF-8 string pair; names may repeat and order is kept).</summary>
public readonly record struct MqttUserProperty(string Name, string Value);
