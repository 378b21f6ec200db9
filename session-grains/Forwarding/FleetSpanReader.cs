using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// Reads fleet codec fields from one contiguous unit. Every declared length and count is checked against
/// what is left (and against <see cref="FleetSize"/>'s limits) before anything is allocated; anything
/// wrong is a <see cref="FleetCodecException"/>. Byte fields come back as slices of the input.
/// </summary>
internal ref struct FleetSpanReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private int _position;

    public FleetSpanReader(ReadOnlyMemory<byte> memory)
    {
        _memory = memory;
        _span = memory.Span;
        _position = 0;
    }

    public readonly int Remaining => _span.Length - _position;

    public readonly bool End => _position == _span.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte()
    {
        if ((uint)_position >= (uint)_span.Length)
        {
            ThrowTruncated();
        }

        return _span[_position++];
    }

    public ushort ReadUInt16()
    {
        if (Remaining < 2)
        {
            ThrowTruncated();
        }

        var value = BinaryPrimitives.ReadUInt16BigEndian(_span[_position..]);
        _position += 2;
        return value;
    }

    /// <summary>The leading format-version byte of a unit; anything but <see cref="FleetSize.FormatVersion"/> is refused.</summary>
    public void ReadVersion(string unit)
    {
        var version = ReadByte();
        if (version != FleetSize.FormatVersion)
        {
            Throw($"{unit} has format version {version}; this node reads version {FleetSize.FormatVersion}.");
        }
    }

    public uint ReadVarUInt32()
    {
        bool complete;
        ulong value;
        int consumed;
        try
        {
            complete = MlpVarint.TryParse(_span[_position..], MlpVarint.MaxLength32, out value, out consumed);
        }
        catch (MlpProtocolException e)
        {
            throw new FleetCodecException(e.Message, e);
        }

        if (!complete)
        {
            ThrowTruncated();
        }

        if (value > uint.MaxValue)
        {
            Throw("Varint overflows 32 bits.");
        }

        _position += consumed;
        return (uint)value;
    }

    /// <summary>A varint byte count of at most <paramref name="max"/> that must fit in what is left.</summary>
    public int ReadLength(int max)
    {
        var length = ReadVarUInt32();
        if (length > (uint)max)
        {
            Throw($"A length of {length} bytes exceeds the limit {max}.");
        }

        if (length > (uint)Remaining)
        {
            ThrowTruncated();
        }

        return (int)length;
    }

    /// <summary>
    /// A varint element count, refused when above <see cref="FleetSize.MaxCount"/> or when that many
    /// elements of at least <paramref name="minimumElementSize"/> bytes cannot fit in what is left, so the
    /// array it sizes is bounded by the input.
    /// </summary>
    public int ReadCount(int minimumElementSize)
    {
        var count = ReadVarUInt32();
        if (count > FleetSize.MaxCount)
        {
            Throw($"A count of {count} exceeds the limit {FleetSize.MaxCount}.");
        }

        if (count > (uint)(Remaining / minimumElementSize))
        {
            ThrowTruncated();
        }

        return (int)count;
    }

    /// <summary>Length-prefixed bytes as a slice of the input (no copy).</summary>
    public ReadOnlyMemory<byte> ReadMemory(int maxLength)
    {
        var length = ReadLength(maxLength);
        var slice = _memory.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>A length-prefixed string, refused unless it is well-formed UTF-8.</summary>
    public string ReadString()
    {
        var length = ReadLength(FleetSize.MaxStringBytes);
        var bytes = _span.Slice(_position, length);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            Throw("A string is not well-formed UTF-8.");
        }

        _position += length;
        return Encoding.UTF8.GetString(bytes);
    }

    public Guid ReadGuid()
    {
        if (Remaining < 16)
        {
            ThrowTruncated();
        }

        var value = new Guid(_span.Slice(_position, 16));
        _position += 16;
        return value;
    }

    public readonly void ExpectEnd(string unit)
    {
        if (!End)
        {
            Throw($"{unit} has {Remaining} unexpected trailing bytes.");
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string message) => throw new FleetCodecException(message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTruncated() => throw new FleetCodecException("A declared length runs past the end of the data.");
}
