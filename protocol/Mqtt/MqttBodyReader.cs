using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// Reads MQTT data types from a packet body. Every declared length is checked against what is left;
/// running past the end is a MalformedPacket. A body in one segment (the usual case with pipe
/// buffers) is read straight from its span; a split body goes through a <see cref="SequenceReader{T}"/>.
/// </summary>
internal ref struct MqttBodyReader
{
    private readonly ReadOnlySequence<byte> _sequence;
    private readonly ReadOnlySpan<byte> _span;
    private readonly bool _single;
    private int _position;
    private SequenceReader<byte> _reader;

    public MqttBodyReader(in ReadOnlySequence<byte> body)
    {
        _sequence = body;
        _single = body.IsSingleSegment;
        if (_single)
        {
            _span = body.FirstSpan;
            _reader = default;
        }
        else
        {
            _span = default;
            _reader = new SequenceReader<byte>(body);
        }

        _position = 0;
    }

    public readonly long Remaining => _single ? _span.Length - _position : _reader.Remaining;

    public readonly bool End => _single ? _position == _span.Length : _reader.End;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte()
    {
        if (_single)
        {
            if ((uint)_position >= (uint)_span.Length)
            {
                MqttThrow.Truncated();
            }

            return _span[_position++];
        }

        if (!_reader.TryRead(out var value))
        {
            MqttThrow.Truncated();
        }

        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort ReadUInt16()
    {
        if (_single)
        {
            if (_span.Length - _position < 2)
            {
                MqttThrow.Truncated();
            }

            var value = BinaryPrimitives.ReadUInt16BigEndian(_span[_position..]);
            _position += 2;
            return value;
        }

        if (!_reader.TryReadBigEndian(out short read))
        {
            MqttThrow.Truncated();
        }

        return (ushort)read;
    }

    public uint ReadUInt32()
    {
        if (_single)
        {
            if (_span.Length - _position < 4)
            {
                MqttThrow.Truncated();
            }

            var value = BinaryPrimitives.ReadUInt32BigEndian(_span[_position..]);
            _position += 4;
            return value;
        }

        if (!_reader.TryReadBigEndian(out int read))
        {
            MqttThrow.Truncated();
        }

        return (uint)read;
    }

    public int ReadVariableByteInteger()
    {
        if (!_single)
        {
            if (!MqttVariableByteInteger.TryRead(ref _reader, out var read, out _))
            {
                MqttThrow.Truncated();
            }

            return read;
        }

        var value = 0;
        for (var i = 0; i < MqttVariableByteInteger.MaxSize; i++)
        {
            var b = ReadByte();
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        MqttThrow.Malformed("Variable byte integer longer than 4 bytes.");
        return 0;
    }

    public ReadOnlySequence<byte> ReadSlice(long length)
    {
        if (length > Remaining)
        {
            MqttThrow.Truncated();
        }

        if (_single)
        {
            var slice = _sequence.Slice(_position, length);
            _position += (int)length;
            return slice;
        }

        var result = _reader.UnreadSequence.Slice(0, length);
        _reader.Advance(length);
        return result;
    }

    public ReadOnlySequence<byte> ReadToEnd() => ReadSlice(Remaining);

    /// <summary>Binary data: a 16-bit length then that many bytes.</summary>
    public ReadOnlySequence<byte> ReadBinary() => ReadSlice(ReadUInt16());

    public byte[] ReadBinaryArray() => ReadBinary().ToArray();

    /// <summary>A UTF-8 string field, validated, as a slice (no allocation).</summary>
    public ReadOnlySequence<byte> ReadUtf8()
    {
        if (_single)
        {
            // Validate straight from the span rather than through the sliced sequence.
            var length = ReadUInt16();
            if (length > _span.Length - _position)
            {
                MqttThrow.Truncated();
            }

            if (!MqttUtf8.IsValid(_span.Slice(_position, length)))
            {
                MqttThrow.Malformed("UTF-8 string is not well formed or contains U+0000.");
            }

            var slice = _sequence.Slice(_position, length);
            _position += length;
            return slice;
        }

        var multi = ReadBinary();
        MqttUtf8.Validate(multi);
        return multi;
    }

    public string ReadString() => MqttUtf8.GetString(ReadUtf8());

    /// <summary>A 5.0 property block: its length, then the block as a slice for <see cref="MqttPropertyReader"/>.</summary>
    public ReadOnlySequence<byte> ReadPropertyBlock() => ReadSlice(ReadVariableByteInteger());

    public readonly void ExpectEnd(string packet)
    {
        if (!End)
        {
            MqttThrow.Malformed($"{packet} has {Remaining} unexpected trailing bytes.");
        }
    }
}
