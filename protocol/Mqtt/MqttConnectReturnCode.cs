namespace AccessLayer.Protocol.Mqtt;

/// <summary>The MQTT 3.1/3.1.1 CONNACK return code (6..255 are reserved).</summary>
public enum MqttConnectReturnCode : byte
{
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}
