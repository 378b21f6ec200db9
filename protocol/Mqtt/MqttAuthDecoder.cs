using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes AUTH (spec 3.15); a 3.1.1 peer sending type 15 is a protocol error.</summary>
public static class MqttAuthDecoder
{
    private const string Context = "AUTH";

    public static MqttAuthPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.Auth);
        if (version != MqttProtocolVersion.V500)
        {
            MqttThrow.Protocol("AUTH exists only in MQTT 5.0.");
        }

        var reader = new MqttBodyReader(body);
        if (reader.End)
        {
            return new MqttAuthPacket { ReasonCode = MqttReasonCode.Success };
        }

        var reasonCode = (MqttReasonCode)reader.ReadByte();
        MqttReasonCodes.Validate(MqttPacketType.Auth, reasonCode);
        string? method = null, reasonString = null;
        byte[]? data = null;
        List<MqttUserProperty>? userProperties = null;
        var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.Auth, MqttPropertySets.UserPropertyOnly, Context);
        while (props.TryReadNext(out var id))
        {
            switch (id)
            {
                case MqttPropertyId.AuthenticationMethod:
                    method = props.ReadString();
                    break;
                case MqttPropertyId.AuthenticationData:
                    data = props.ReadBinaryArray();
                    break;
                case MqttPropertyId.ReasonString:
                    reasonString = props.ReadString();
                    break;
                default:
                    (userProperties ??= []).Add(props.ReadUserProperty());
                    break;
            }
        }

        reader.ExpectEnd(Context);
        if (method is null)
        {
            MqttThrow.Protocol("AUTH must carry an Authentication Method.");
        }

        return new MqttAuthPacket
        {
            ReasonCode = reasonCode,
            AuthenticationMethod = method,
            AuthenticationData = data,
            ReasonString = reasonString,
            UserProperties = userProperties is null ? [] : userProperties,
        };
    }
}
