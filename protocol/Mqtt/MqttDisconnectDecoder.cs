using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes DISCONNECT (spec 3.14).</summary>
public static class MqttDisconnectDecoder
{
    private const string Context = "DISCONNECT";

    private static readonly MqttDisconnectPacket Normal = new();

    public static MqttDisconnectPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.Disconnect);
        var reader = new MqttBodyReader(body);
        if (version != MqttProtocolVersion.V500 || reader.End)
        {
            reader.ExpectEnd(Context);
            return Normal;
        }

        var reasonCode = (MqttReasonCode)reader.ReadByte();
        MqttReasonCodes.Validate(MqttPacketType.Disconnect, reasonCode);
        if (reader.End)
        {
            return new MqttDisconnectPacket { ReasonCode = reasonCode };
        }

        uint? sessionExpiry = null;
        string? reasonString = null, serverReference = null;
        List<MqttUserProperty>? userProperties = null;
        var props = new MqttPropertyReader(reader.ReadPropertyBlock(), MqttPropertySets.Disconnect, MqttPropertySets.UserPropertyOnly, Context);
        while (props.TryReadNext(out var id))
        {
            switch (id)
            {
                case MqttPropertyId.SessionExpiryInterval:
                    sessionExpiry = props.ReadUInt32();
                    break;
                case MqttPropertyId.ReasonString:
                    reasonString = props.ReadString();
                    break;
                case MqttPropertyId.ServerReference:
                    serverReference = props.ReadString();
                    break;
                default:
                    (userProperties ??= []).Add(props.ReadUserProperty());
                    break;
            }
        }

        reader.ExpectEnd(Context);
        return new MqttDisconnectPacket
        {
            ReasonCode = reasonCode,
            SessionExpiryInterval = sessionExpiry,
            ReasonString = reasonString,
            ServerReference = serverReference,
            UserProperties = userProperties is null ? [] : userProperties,
        };
    }
}
