namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// Bad input from the peer. <see cref="ReasonCode"/> is the MQTT 5.0 reason code the spec
/// names for the violation; a 3.1.1 connection maps it (or just closes).
/// </summary>
public sealed class MqttProtocolException : Exception
{
    public MqttProtocolException(MqttReasonCode reasonCode, string message)
        : base(message)
    {
        ReasonCode = reasonCode;
    }

    public MqttProtocolException()
        : this(MqttReasonCode.MalformedPacket, "Malformed MQTT packet.")
    {
    }

    public MqttProtocolException(string message)
        : this(MqttReasonCode.MalformedPacket, message)
    {
    }

    public MqttProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        ReasonCode = MqttReasonCode.MalformedPacket;
    }

    public MqttReasonCode ReasonCode { get; }

    internal static MqttProtocolException Malformed(string message) => new(MqttReasonCode.MalformedPacket, message);

    internal static MqttProtocolException Protocol(string message) => new(MqttReasonCode.ProtocolError, message);
}
