namespace AccessLayer.Protocol.Mqtt;

/// <summary>The fixed header of one control packet: type, the four flag bits, and the framing lengths.</summary>
public readonly struct MqttFixedHeader
{
    public MqttFixedHeader(MqttPacketType packetType, byte flags, int remainingLength, int headerLength)
    {
        PacketType = packetType;
        Flags = flags;
        RemainingLength = remainingLength;
        HeaderLength = headerLength;
    }

    public MqttFixedHeader(MqttPacketType packetType, byte flags, int remainingLength)
        : this(packetType, flags, remainingLength, 1 + MqttVariableByteInteger.GetSize(remainingLength))
    {
    }

    public MqttPacketType PacketType { get; }

    /// <summary>The low nibble of the first byte (PUBLISH: DUP, QoS, RETAIN; PUBREL/SUBSCRIBE/UNSUBSCRIBE: 0b0010).</summary>
    public byte Flags { get; }

    /// <summary>Bytes after the fixed header (the body).</summary>
    public int RemainingLength { get; }

    /// <summary>Bytes of the fixed header itself: 1 + the size of the remaining-length integer (2..5).</summary>
    public int HeaderLength { get; }

    public int PacketLength => HeaderLength + RemainingLength;

    /// <summary>PUBLISH only: the DUP flag.</summary>
    public bool Dup => (Flags & 0x08) != 0;

    /// <summary>PUBLISH only: the QoS bits (3 is rejected when the header is read).</summary>
    public MqttQualityOfService QualityOfService => (MqttQualityOfService)((Flags >> 1) & 0x03);

    /// <summary>PUBLISH only: the RETAIN flag.</summary>
    public bool Retain => (Flags & 0x01) != 0;

    /// <summary>The flag nibble every packet type except PUBLISH must carry (spec 2.1.3).</summary>
    internal static byte RequiredFlags(MqttPacketType type) =>
        type is MqttPacketType.PubRel or MqttPacketType.Subscribe or MqttPacketType.Unsubscribe ? (byte)0x02 : (byte)0x00;

    /// <summary>Rejects reserved type 0, wrong reserved flag bits, and PUBLISH QoS 3 (all MalformedPacket).</summary>
    internal static void ValidateTypeAndFlags(MqttPacketType type, byte flags)
    {
        if (type == 0)
        {
            MqttThrow.Malformed("Packet type 0 is reserved.");
        }

        if (type == MqttPacketType.Publish)
        {
            if ((flags & 0x06) == 0x06)
            {
                MqttThrow.Malformed("PUBLISH QoS 3 is invalid.");
            }
        }
        else if (flags != RequiredFlags(type))
        {
            MqttThrow.Malformed($"Reserved fixed-header flags of {type} must be 0x{RequiredFlags(type):X1}, got 0x{flags:X1}.");
        }
    }

    internal void Validate(MqttPacketType expected)
    {
        if (PacketType != expected)
        {
            throw new ArgumentException($"Header is {PacketType}, the decoder expects {expected}.");
        }

        ValidateTypeAndFlags(PacketType, Flags);
    }
}
