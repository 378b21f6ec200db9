namespace AccessLayer.Protocol.Mqtt;

/// <summary>MQTT 5.0 subscription option: whether retained messages are sent when the subscription is made.</summary>
public enum MqttRetainHandling : byte
{
    SendAtSubscribe = 0,
    SendAtSubscribeIfNew = 1,
    DoNotSend = 2,
}
