using System.Buffers;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The bytes nodes exchange: forward batches, durable queue entries, durable subscription
/// lists and session handovers. Versioned, length-checked, and pure.
/// </summary>
public static class FleetCodec
{
    /// <summary>Appends one forwarded message to a batch being built.</summary>
    public static void WriteForwarded(IBufferWriter<byte> writer, ForwardedMessage message) => throw new NotImplementedException();

    /// <summary>Reads a whole batch written with <see cref="WriteForwarded"/>.</summary>
    /// <exception cref="FleetCodecException">The bytes are not a valid batch.</exception>
    public static IReadOnlyList<ForwardedMessage> ReadBatch(ReadOnlyMemory<byte> batch) => throw new NotImplementedException();

    public static byte[] EncodeDelivery(MessageDelivery delivery) => throw new NotImplementedException();

    /// <exception cref="FleetCodecException">The bytes are not a valid delivery.</exception>
    public static MessageDelivery DecodeDelivery(ReadOnlyMemory<byte> data) => throw new NotImplementedException();

    public static byte[] EncodeSubscriptions(IReadOnlyList<Subscription> subscriptions) => throw new NotImplementedException();

    /// <exception cref="FleetCodecException">The bytes are not a valid list.</exception>
    public static IReadOnlyList<Subscription> DecodeSubscriptions(ReadOnlyMemory<byte> data) => throw new NotImplementedException();

    public static byte[] EncodeHandover(SessionHandover handover) => throw new NotImplementedException();

    /// <exception cref="FleetCodecException">The bytes are not a valid handover.</exception>
    public static SessionHandover DecodeHandover(ReadOnlyMemory<byte> data) => throw new NotImplementedException();
}

/// <summary>Bytes from a peer or from Redis that do not decode.</summary>
public sealed class FleetCodecException(string message) : Exception(message);
