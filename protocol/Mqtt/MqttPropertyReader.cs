using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// Walks one 5.0 property block. An identifier not valid for the packet is a MalformedPacket
/// (spec 2.2.2.2); a second copy of a single-instance property is a ProtocolError.
/// </summary>
internal ref struct MqttPropertyReader
{
    private readonly ulong _allowed;
    private readonly ulong _repeatable;
    private readonly string _context;
    private MqttBodyReader _reader;
    private ulong _seen;

    public MqttPropertyReader(in ReadOnlySequence<byte> block, ulong allowed, ulong repeatable, string context)
    {
        _reader = new MqttBodyReader(block);
        _allowed = allowed;
        _repeatable = repeatable;
        _context = context;
        _seen = 0;
    }

    public bool TryReadNext(out MqttPropertyId id)
    {
        if (_reader.End)
        {
            id = 0;
            return false;
        }

        // Identifiers are variable byte integers, but every defined one is a single byte below 0x80.
        var b = _reader.ReadByte();
        if (b >= 64 || (_allowed & (1UL << b)) == 0)
        {
            MqttThrow.Malformed($"Property 0x{b:X2} is not valid in {_context}.");
        }

        var bit = 1UL << b;
        if ((_seen & bit) != 0 && (_repeatable & bit) == 0)
        {
            MqttThrow.Protocol($"Property {(MqttPropertyId)b} appears more than once in {_context}.");
        }

        _seen |= bit;
        id = (MqttPropertyId)b;
        return true;
    }

    public readonly bool Has(MqttPropertyId id) => (_seen & (1UL << (int)id)) != 0;

    public byte ReadByte() => _reader.ReadByte();

    /// <summary>A byte property that may only be 0 or 1 (anything else is a ProtocolError).</summary>
    public bool ReadFlag(MqttPropertyId id)
    {
        var value = _reader.ReadByte();
        if (value > 1)
        {
            MqttThrow.Protocol($"Property {id} must be 0 or 1, got {value}.");
        }

        return value == 1;
    }

    public ushort ReadUInt16() => _reader.ReadUInt16();

    /// <summary>A two-byte property where 0 is a ProtocolError (Receive Maximum, Topic Alias...).</summary>
    public ushort ReadNonZeroUInt16(MqttPropertyId id, MqttReasonCode reasonCode = MqttReasonCode.ProtocolError)
    {
        var value = _reader.ReadUInt16();
        if (value == 0)
        {
            MqttThrow.With(reasonCode, $"Property {id} must not be 0.");
        }

        return value;
    }

    public uint ReadUInt32() => _reader.ReadUInt32();

    public int ReadSubscriptionIdentifier()
    {
        var value = _reader.ReadVariableByteInteger();
        if (value == 0)
        {
            MqttThrow.Protocol("Subscription Identifier must not be 0.");
        }

        return value;
    }

    public string ReadString() => _reader.ReadString();

    public ReadOnlySequence<byte> ReadUtf8() => _reader.ReadUtf8();

    public ReadOnlySequence<byte> ReadBinary() => _reader.ReadBinary();

    public byte[] ReadBinaryArray() => _reader.ReadBinaryArray();

    public MqttUserProperty ReadUserProperty()
    {
        var name = _reader.ReadString();
        var value = _reader.ReadString();
        return new MqttUserProperty(name, value);
    }

    /// <summary>Validates a user property pair without materialising it.</summary>
    public void SkipUserProperty()
    {
        _reader.ReadUtf8();
        _reader.ReadUtf8();
    }
}
