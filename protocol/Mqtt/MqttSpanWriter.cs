using System.Buffers.Binary;
using System.Text;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes MQTT data types into a span sized exactly by the caller's size pass.</summary>
internal ref struct MqttSpanWriter
{
    private readonly Span<byte> _span;
    private int _position;

    public MqttSpanWriter(Span<byte> span)
    {
        _span = span;
        _position = 0;
    }

    public readonly int Written => _position;

    public void WriteByte(byte value) => _span[_position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_span[_position..], value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_span[_position..], value);
        _position += 4;
    }

    public void WriteVariableByteInteger(int value) => _position += MqttVariableByteInteger.Write(_span[_position..], value);

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    public void WriteFixedHeader(MqttPacketType type, byte flags, int remainingLength)
    {
        WriteByte((byte)(((int)type << 4) | flags));
        WriteVariableByteInteger(remainingLength);
    }

    /// <summary>A UTF-8 string field: 16-bit length then the bytes, encoded straight into the span.</summary>
    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetBytes(value, _span[(_position + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(_span[_position..], (ushort)count);
        _position += 2 + count;
    }

    /// <summary>The UTF-8 bytes of <paramref name="value"/> alone, for formats that put a length of their own before them.</summary>
    public void WriteUtf8(string value) => _position += Encoding.UTF8.GetBytes(value, _span[_position..]);

    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        WriteUInt16((ushort)value.Length);
        WriteBytes(value);
    }

    public void WriteProperty(MqttPropertyId id, byte value)
    {
        WriteByte((byte)id);
        WriteByte(value);
    }

    public void WriteProperty(MqttPropertyId id, ushort value)
    {
        WriteByte((byte)id);
        WriteUInt16(value);
    }

    public void WriteProperty(MqttPropertyId id, uint value)
    {
        WriteByte((byte)id);
        WriteUInt32(value);
    }

    public void WriteVariableByteIntegerProperty(MqttPropertyId id, int value)
    {
        WriteByte((byte)id);
        WriteVariableByteInteger(value);
    }

    public void WriteProperty(MqttPropertyId id, string value)
    {
        WriteByte((byte)id);
        WriteString(value);
    }

    public void WriteProperty(MqttPropertyId id, ReadOnlySpan<byte> value)
    {
        WriteByte((byte)id);
        WriteBinary(value);
    }

    public void WriteUserProperties(IReadOnlyList<MqttUserProperty> properties)
    {
        for (var i = 0; i < properties.Count; i++)
        {
            WriteByte((byte)MqttPropertyId.UserProperty);
            WriteString(properties[i].Name);
            WriteString(properties[i].Value);
        }
    }

    /// <summary>Guards the size pass: a writer that wrote a different count than it computed is a bug.</summary>
    public readonly void Complete(int expected)
    {
        if (_position != expected)
        {
            throw new InvalidOperationException($"MQTT writer size mismatch: computed {expected}, wrote {_position}.");
        }
    }
}
