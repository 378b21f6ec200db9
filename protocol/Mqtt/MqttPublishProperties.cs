using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>One User Property of a received PUBLISH as UTF-8 slices of the packet.</summary>
public readonly struct MqttUserPropertySlice
{
    public MqttUserPropertySlice(ReadOnlySequence<byte> name, ReadOnlySequence<byte> value)
    {
        Name = name;
        Value = value;
    }

    public ReadOnlySequence<byte> Name { get; }

    public ReadOnlySequence<byte> Value { get; }

    public MqttUserProperty ToUserProperty() => new(MqttUtf8.GetString(Name), MqttUtf8.GetString(Value));
}

/// <summary>foreach over the User Properties of a decoded PUBLISH; walks the validated property block.</summary>
public readonly struct MqttPublishUserProperties
{
    private readonly ReadOnlySequence<byte> _properties;

    internal MqttPublishUserProperties(ReadOnlySequence<byte> properties) => _properties = properties;

    public Enumerator GetEnumerator() => new(_properties);

    public ref struct Enumerator
    {
        private SequenceReader<byte> _reader;

        internal Enumerator(ReadOnlySequence<byte> properties)
        {
            _reader = new SequenceReader<byte>(properties);
            Current = default;
        }

        public MqttUserPropertySlice Current { get; private set; }

        public bool MoveNext()
        {
            while (MqttPublishPropertyWalker.TryNext(ref _reader, out var id, out var value, out _))
            {
                if (id == MqttPropertyId.UserProperty)
                {
                    var pair = new SequenceReader<byte>(value);
                    pair.TryReadBigEndian(out short nameLength);
                    var name = pair.UnreadSequence.Slice(0, (ushort)nameLength);
                    pair.Advance((ushort)nameLength);
                    pair.TryReadBigEndian(out short valueLength);
                    Current = new MqttUserPropertySlice(name, pair.UnreadSequence.Slice(0, (ushort)valueLength));
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>foreach over the Subscription Identifiers of a decoded PUBLISH.</summary>
public readonly struct MqttPublishSubscriptionIdentifiers
{
    private readonly ReadOnlySequence<byte> _properties;

    internal MqttPublishSubscriptionIdentifiers(ReadOnlySequence<byte> properties) => _properties = properties;

    public Enumerator GetEnumerator() => new(_properties);

    public ref struct Enumerator
    {
        private SequenceReader<byte> _reader;

        internal Enumerator(ReadOnlySequence<byte> properties)
        {
            _reader = new SequenceReader<byte>(properties);
            Current = 0;
        }

        public uint Current { get; private set; }

        public bool MoveNext()
        {
            while (MqttPublishPropertyWalker.TryNext(ref _reader, out var id, out _, out var integer))
            {
                if (id == MqttPropertyId.SubscriptionIdentifier)
                {
                    Current = integer;
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>Steps through a PUBLISH property block the decoder has already validated.</summary>
internal static class MqttPublishPropertyWalker
{
    /// <summary>
    /// One property: integer values come back in <paramref name="integer"/>; strings and binary data
    /// as their bytes in <paramref name="value"/>; a user property as both length-prefixed strings.
    /// </summary>
    public static bool TryNext(ref SequenceReader<byte> reader, out MqttPropertyId id, out ReadOnlySequence<byte> value, out uint integer)
    {
        value = default;
        integer = 0;
        if (!reader.TryRead(out var b))
        {
            id = 0;
            return false;
        }

        id = (MqttPropertyId)b;
        switch (id)
        {
            case MqttPropertyId.PayloadFormatIndicator:
                reader.TryRead(out var flag);
                integer = flag;
                break;
            case MqttPropertyId.MessageExpiryInterval:
                reader.TryReadBigEndian(out int expiry);
                integer = (uint)expiry;
                break;
            case MqttPropertyId.TopicAlias:
                reader.TryReadBigEndian(out short alias);
                integer = (ushort)alias;
                break;
            case MqttPropertyId.SubscriptionIdentifier:
                MqttVariableByteInteger.TryRead(ref reader, out var subscriptionId, out _);
                integer = (uint)subscriptionId;
                break;
            case MqttPropertyId.UserProperty:
                var start = reader.Position;
                SkipLengthPrefixed(ref reader);
                SkipLengthPrefixed(ref reader);
                value = reader.Sequence.Slice(start, reader.Position);
                break;
            default:
                reader.TryReadBigEndian(out short length);
                value = reader.UnreadSequence.Slice(0, (ushort)length);
                reader.Advance((ushort)length);
                break;
        }

        return true;
    }

    private static void SkipLengthPrefixed(ref SequenceReader<byte> reader)
    {
        reader.TryReadBigEndian(out short length);
        reader.Advance((ushort)length);
    }
}
