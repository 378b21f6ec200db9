using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The bytes nodes exchange: forward batches, durable queue entries, durable subscription
/// lists and session handovers. Versioned, length-checked, and pure. The layout of every unit
/// is in docs/fleet-codec.md. Decoding refuses anything it cannot read exactly with a
/// <see cref="FleetCodecException"/>, having allocated no more than the input can justify;
/// encoding refuses (with an <see cref="ArgumentException"/>) what decoding would refuse.
/// </summary>
public static class FleetCodec
{
    // Below this a forwarded entry goes into one span; above it the payload is copied on its own so a
    // big message does not demand one contiguous buffer from the writer.
    private const int SingleSpanLimit = 4096;

    private const byte ForwardedHasPublisher = 0x01;
    private const byte ForwardedPlainSubscribers = 0x02;
    private const byte ForwardedDurable = 0x04;
    private const byte ForwardedReserved = 0xF8;

    private const byte HandoverHasOwner = 0x01;
    private const byte HandoverHasWill = 0x02;
    private const byte HandoverReserved = 0xFC;

    /// <summary>
    /// Appends one forwarded message to a batch being built: a batch is the entries of consecutive
    /// calls on one writer, each entry led by the format version byte and its own length. Strings are
    /// encoded straight into the writer's span; nothing else is allocated.
    /// </summary>
    public static void WriteForwarded(IBufferWriter<byte> writer, ForwardedMessage message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(message.Message);
        var groups = message.ShareGroups;
        var headSize = 1 + FleetSize.OptionalString(message.PublisherClientId)
            + (message.DurableId == Guid.Empty ? 0 : 16)
            + FleetSize.Count(groups.Count)
            + FleetMessageFormat.MessageHeadSize(message.Message);
        for (var i = 0; i < groups.Count; i++)
        {
            headSize = checked(headSize + FleetSize.String(groups[i]));
        }

        var payload = message.Message.Payload.Span;
        var entryLength = checked(headSize + payload.Length);
        var prefix = 1 + FleetSize.VarInt(entryLength);
        var total = checked(prefix + entryLength);
        var single = total <= SingleSpanLimit;
        var spanLength = single ? total : prefix + headSize;

        var span = new MqttSpanWriter(writer.GetSpan(spanLength)[..spanLength]);
        span.WriteByte(FleetSize.FormatVersion);
        span.WriteVariableByteInteger(entryLength);
        span.WriteByte((byte)((message.PublisherClientId is null ? 0 : ForwardedHasPublisher)
            | (message.PlainSubscribers ? ForwardedPlainSubscribers : 0)
            | (message.DurableId == Guid.Empty ? 0 : ForwardedDurable)));
        if (message.PublisherClientId is not null)
        {
            FleetFields.WriteString(ref span, message.PublisherClientId);
        }

        if (message.DurableId != Guid.Empty)
        {
            FleetFields.WriteGuid(ref span, message.DurableId);
        }

        span.WriteVariableByteInteger(groups.Count);
        for (var i = 0; i < groups.Count; i++)
        {
            FleetFields.WriteString(ref span, groups[i]);
        }

        FleetMessageFormat.WriteMessageHead(ref span, message.Message);
        if (single)
        {
            span.WriteBytes(payload);
            span.Complete(total);
            writer.Advance(total);
        }
        else
        {
            span.Complete(spanLength);
            writer.Advance(spanLength);
            writer.Write(payload);
        }
    }

    /// <summary>
    /// Reads a whole batch written with <see cref="WriteForwarded"/> (no bytes: no messages). Each
    /// message's payload and correlation data are slices of <paramref name="batch"/>, not copies: keep
    /// that memory unchanged for as long as the messages live.
    /// </summary>
    /// <exception cref="FleetCodecException">The bytes are not a valid batch.</exception>
    public static IReadOnlyList<ForwardedMessage> ReadBatch(ReadOnlyMemory<byte> batch) =>
        batch.IsEmpty ? [] : FleetFields.ReadUnit(batch, "A forwarded message", ReadEntries);

    /// <summary>A delivery as one durable queue entry.</summary>
    public static byte[] EncodeDelivery(MessageDelivery delivery) =>
        Encode(delivery, FleetMessageFormat.DeliverySize(delivery), FleetMessageFormat.WriteDelivery);

    /// <summary>Reads an <see cref="EncodeDelivery"/> entry; payload and correlation data are slices of <paramref name="data"/>.</summary>
    /// <exception cref="FleetCodecException">The bytes are not a valid delivery.</exception>
    public static MessageDelivery DecodeDelivery(ReadOnlyMemory<byte> data) =>
        FleetFields.ReadUnit(data, "A delivery", FleetMessageFormat.ReadDelivery);

    /// <summary>A session's subscriptions, in order.</summary>
    public static byte[] EncodeSubscriptions(IReadOnlyList<Subscription> subscriptions)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        return Encode(subscriptions, SubscriptionsSize(subscriptions), WriteSubscriptions);
    }

    /// <exception cref="FleetCodecException">The bytes are not a valid list.</exception>
    public static IReadOnlyList<Subscription> DecodeSubscriptions(ReadOnlyMemory<byte> data) =>
        FleetFields.ReadUnit(data, "A subscription list", ReadSubscriptions);

    /// <summary>A whole session for a takeover on another node.</summary>
    public static byte[] EncodeHandover(SessionHandover handover)
    {
        ArgumentNullException.ThrowIfNull(handover);
        return Encode(handover, HandoverSize(handover), WriteHandover);
    }

    /// <summary>Reads an <see cref="EncodeHandover"/> unit; payloads and correlation data are slices of <paramref name="data"/>.</summary>
    /// <exception cref="FleetCodecException">The bytes are not a valid handover.</exception>
    public static SessionHandover DecodeHandover(ReadOnlyMemory<byte> data) =>
        FleetFields.ReadUnit(data, "A handover", ReadHandover);

    /// <summary>A will as a session grain keeps it (published by a survivor when the node holding its client dies).</summary>
    public static byte[] EncodeWill(WillMessage will)
    {
        ArgumentNullException.ThrowIfNull(will);
        return Encode(will, checked(4 + FleetMessageFormat.MessageSize(will.Message)), static (ref MqttSpanWriter writer, WillMessage value) =>
        {
            writer.WriteUInt32(value.DelayInterval);
            FleetMessageFormat.WriteMessage(ref writer, value.Message);
        });
    }

    /// <summary>Reads an <see cref="EncodeWill"/> unit; the payload is a slice of <paramref name="data"/>.</summary>
    /// <exception cref="FleetCodecException">The bytes are not a valid will.</exception>
    public static WillMessage DecodeWill(ReadOnlyMemory<byte> data) =>
        FleetFields.ReadUnit(data, "A will", static (ref MqttBodyReader reader) =>
        {
            var delay = reader.ReadUInt32();
            return new WillMessage(FleetMessageFormat.ReadMessage(ref reader), delay);
        });

    private static byte[] Encode<T>(T value, int bodySize, UnitWriter<T> write)
    {
        var size = checked(1 + bodySize);
        var bytes = new byte[size];
        var writer = new MqttSpanWriter(bytes);
        writer.WriteByte(FleetSize.FormatVersion);
        write(ref writer, value);
        writer.Complete(size);
        return bytes;
    }

    /// <summary>The entries of a batch, the first one's version byte already read: each entry's length, then the forwarded message filling exactly that length.</summary>
    private static List<ForwardedMessage> ReadEntries(ref MqttBodyReader reader)
    {
        var messages = new List<ForwardedMessage>();
        while (true)
        {
            var entry = new MqttBodyReader(reader.ReadSlice(FleetFields.ReadLength(ref reader, FleetSize.MaxLength)));
            messages.Add(ReadForwarded(ref entry));
            entry.ExpectEnd("A forwarded message");
            if (reader.End)
            {
                return messages;
            }

            FleetFields.ReadVersion(ref reader, "A forwarded message");
        }
    }

    private static ForwardedMessage ReadForwarded(ref MqttBodyReader reader)
    {
        var flags = reader.ReadByte();
        if ((flags & ForwardedReserved) != 0)
        {
            FleetFields.Throw("A forwarded message has reserved flag bits set.");
        }

        var publisher = (flags & ForwardedHasPublisher) != 0 ? FleetFields.ReadString(ref reader) : null;
        var durableId = (flags & ForwardedDurable) != 0 ? FleetFields.ReadGuid(ref reader) : Guid.Empty;
        var groups = FleetFields.ArrayForCount<string>(ref reader, FleetSize.MinString);
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = FleetFields.ReadString(ref reader);
        }

        var message = FleetMessageFormat.ReadMessage(ref reader);
        return new ForwardedMessage(message, publisher, (flags & ForwardedPlainSubscribers) != 0, groups, durableId);
    }

    private static int SubscriptionsSize(IReadOnlyList<Subscription> subscriptions)
    {
        var size = FleetSize.Count(subscriptions.Count);
        for (var i = 0; i < subscriptions.Count; i++)
        {
            size = checked(size + FleetMessageFormat.SubscriptionSize(subscriptions[i]));
        }

        return size;
    }

    private static void WriteSubscriptions(ref MqttSpanWriter writer, IReadOnlyList<Subscription> subscriptions)
    {
        writer.WriteVariableByteInteger(subscriptions.Count);
        for (var i = 0; i < subscriptions.Count; i++)
        {
            FleetMessageFormat.WriteSubscription(ref writer, subscriptions[i]);
        }
    }

    private static Subscription[] ReadSubscriptions(ref MqttBodyReader reader)
    {
        var subscriptions = FleetFields.ArrayForCount<Subscription>(ref reader, FleetSize.MinSubscription);
        for (var i = 0; i < subscriptions.Length; i++)
        {
            subscriptions[i] = FleetMessageFormat.ReadSubscription(ref reader);
        }

        return subscriptions;
    }

    private static int HandoverSize(SessionHandover handover)
    {
        var size = 1 + FleetSize.OptionalString(handover.Owner) + 4;
        if (handover.Will is { } will)
        {
            size = checked(size + 4 + FleetMessageFormat.MessageSize(will.Message));
        }

        size = checked(size + SubscriptionsSize(handover.Subscriptions) + FleetSize.Count(handover.Inflight.Count));
        for (var i = 0; i < handover.Inflight.Count; i++)
        {
            var inflight = handover.Inflight[i];
            if (inflight.State is < OutgoingState.AwaitingPubAck or > OutgoingState.AwaitingPubComp)
            {
                throw new ArgumentOutOfRangeException(nameof(handover), inflight.State, "An inflight message's state is AwaitingPubAck, AwaitingPubRec or AwaitingPubComp.");
            }

            size = checked(size + 3 + FleetMessageFormat.DeliverySize(inflight.Delivery));
        }

        size = checked(size + FleetSize.Count(handover.Queued.Count));
        for (var i = 0; i < handover.Queued.Count; i++)
        {
            size = checked(size + FleetMessageFormat.DeliverySize(handover.Queued[i]));
        }

        return checked(size + FleetSize.Count(handover.IncomingAwaitingRelease.Count) + (2 * handover.IncomingAwaitingRelease.Count));
    }

    private static void WriteHandover(ref MqttSpanWriter writer, SessionHandover handover)
    {
        writer.WriteByte((byte)((handover.Owner is null ? 0 : HandoverHasOwner) | (handover.Will is null ? 0 : HandoverHasWill)));
        if (handover.Owner is not null)
        {
            FleetFields.WriteString(ref writer, handover.Owner);
        }

        writer.WriteUInt32(handover.SessionExpiryInterval);
        if (handover.Will is { } will)
        {
            writer.WriteUInt32(will.DelayInterval);
            FleetMessageFormat.WriteMessage(ref writer, will.Message);
        }

        WriteSubscriptions(ref writer, handover.Subscriptions);
        writer.WriteVariableByteInteger(handover.Inflight.Count);
        for (var i = 0; i < handover.Inflight.Count; i++)
        {
            var inflight = handover.Inflight[i];
            writer.WriteUInt16(inflight.PacketId);
            writer.WriteByte((byte)inflight.State);
            FleetMessageFormat.WriteDelivery(ref writer, inflight.Delivery);
        }

        writer.WriteVariableByteInteger(handover.Queued.Count);
        for (var i = 0; i < handover.Queued.Count; i++)
        {
            FleetMessageFormat.WriteDelivery(ref writer, handover.Queued[i]);
        }

        writer.WriteVariableByteInteger(handover.IncomingAwaitingRelease.Count);
        for (var i = 0; i < handover.IncomingAwaitingRelease.Count; i++)
        {
            writer.WriteUInt16(handover.IncomingAwaitingRelease[i]);
        }
    }

    private static SessionHandover ReadHandover(ref MqttBodyReader reader)
    {
        var flags = reader.ReadByte();
        if ((flags & HandoverReserved) != 0)
        {
            FleetFields.Throw("A handover has reserved flag bits set.");
        }

        var owner = (flags & HandoverHasOwner) != 0 ? FleetFields.ReadString(ref reader) : null;
        var expiry = reader.ReadUInt32();
        WillMessage? will = null;
        if ((flags & HandoverHasWill) != 0)
        {
            var delay = reader.ReadUInt32();
            will = new WillMessage(FleetMessageFormat.ReadMessage(ref reader), delay);
        }

        var subscriptions = ReadSubscriptions(ref reader);
        var inflight = FleetFields.ArrayForCount<InflightMessage>(ref reader, FleetSize.MinInflight);
        for (var i = 0; i < inflight.Length; i++)
        {
            var packetId = reader.ReadUInt16();
            var state = (OutgoingState)reader.ReadByte();
            if (state is < OutgoingState.AwaitingPubAck or > OutgoingState.AwaitingPubComp)
            {
                FleetFields.Throw($"An inflight message has the unknown state {(byte)state}.");
            }

            inflight[i] = new InflightMessage(packetId, FleetMessageFormat.ReadDelivery(ref reader), state);
        }

        var queued = FleetFields.ArrayForCount<MessageDelivery>(ref reader, FleetSize.MinDelivery);
        for (var i = 0; i < queued.Length; i++)
        {
            queued[i] = FleetMessageFormat.ReadDelivery(ref reader);
        }

        var awaiting = FleetFields.ArrayForCount<ushort>(ref reader, FleetSize.MinPacketId);
        for (var i = 0; i < awaiting.Length; i++)
        {
            awaiting[i] = reader.ReadUInt16();
        }

        return new SessionHandover
        {
            Owner = owner,
            SessionExpiryInterval = expiry,
            Will = will,
            Subscriptions = subscriptions,
            Inflight = inflight,
            Queued = queued,
            IncomingAwaitingRelease = awaiting,
        };
    }

    private delegate void UnitWriter<in T>(ref MqttSpanWriter writer, T value);
}
