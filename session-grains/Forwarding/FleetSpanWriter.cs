using System.Buffers.Binary;
using System.Text;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// Writes fleet codec fields into a span sized exactly by the caller's size pass (<see cref="FleetSize"/>):
/// varints are <see cref="MlpVarint"/>, strings a varint byte count then UTF-8 encoded straight into the span.
/// </summary>
internal ref struct FleetSpanWriter
{
    private readonly Span<byte> _span;
    private int _position;

    public FleetSpanWriter(Span<byte> span)
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

    public void WriteVarUInt32(uint value) => _position += MlpVarint.Write(_span[_position..], value);

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    /// <summary>A varint byte count, then the bytes.</summary>
    public void WriteLengthPrefixed(ReadOnlySpan<byte> value)
    {
        WriteVarUInt32((uint)value.Length);
        WriteBytes(value);
    }

    /// <summary>A varint UTF-8 byte count, then the UTF-8 bytes (the size pass has already rejected what is too long or not encodable).</summary>
    public void WriteString(string value)
    {
        WriteVarUInt32((uint)FleetSize.Utf8.GetByteCount(value));
        _position += FleetSize.Utf8.GetBytes(value, _span[_position..]);
    }

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(_span.Slice(_position, 16));
        _position += 16;
    }

    /// <summary>Guards the size pass: a writer that wrote a different count than it computed is a bug.</summary>
    public readonly void Complete(int expected)
    {
        if (_position != expected)
        {
            throw new InvalidOperationException($"Fleet codec size mismatch: computed {expected}, wrote {_position}.");
        }
    }
}
