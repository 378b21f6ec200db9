using System.Buffers;
using System.Runtime.CompilerServices;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// Reads MQTT data types from a packet body (any number of segments). Every declared length is
/// checked against what is left; running past the end is a MalformedPacket.
/// </summary>
internal ref struct MqttBodyReader
{
    private SequenceReader<byte> _reader;

    public MqttBodyReader(in ReadOnlySequence<byte> body)
    {
        _reader = new SequenceReader<byte>(body);
    }

    public readonly long Remaining => _reader.Remaining;

    public readonly bool End => _reader.End;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte()
    {
        if (!_reader.TryRead(out var value))
        {
            MqttThrow.Truncated();
        }

        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort ReadUInt16()
    {
        if (!_reader.TryReadBigEndian(out short value))
        {
            MqttThrow.Truncated();
        }

        return (ushort)value;
    }

    public uint ReadUInt32()
    {
        if (!_reader.TryReadBigEndian(out int value))
        {
            MqttThrow.Truncated();
        }

        return (uint)value;
    }

    public int ReadVariableByteInteger()
    {
        if (!MqttVariableByteInteger.TryRead(ref _reader, out var value, out _))
        {
            MqttThrow.Truncated();
        }

        return value;
    }

    public ReadOnlySequence<byte> ReadSlice(long length)
    {
        if (length > _reader.Remaining)
        {
            MqttThrow.Truncated();
        }

        var slice = _reader.UnreadSequence.Slice(0, length);
        _reader.Advance(length);
        return slice;
    }

    public ReadOnlySequence<byte> ReadToEnd() => ReadSlice(_reader.Remaining);

    /// <summary>Binary data: a 16-bit length then that many bytes.</summary>
    public ReadOnlySequence<byte> ReadBinary() => ReadSlice(ReadUInt16());

    public byte[] ReadBinaryArray() => ReadBinary().ToArray();

    /// <summary>A UTF-8 string field, validated, as a slice (no allocation).</summary>
    public ReadOnlySequence<byte> ReadUtf8()
    {
        var slice = ReadBinary();
        MqttUtf8.Validate(slice);
        return slice;
    }

    public string ReadString() => MqttUtf8.GetString(ReadUtf8());

    /// <summary>A 5.0 property block: its length, then the block as a slice for <see cref="MqttPropertyReader"/>.</summary>
    public ReadOnlySequence<byte> ReadPropertyBlock() => ReadSlice(ReadVariableByteInteger());

    public readonly void ExpectEnd(string packet)
    {
        if (!_reader.End)
        {
            MqttThrow.Malformed($"{packet} has {_reader.Remaining} unexpected trailing bytes.");
        }
    }
}
