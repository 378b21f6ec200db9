using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Client;

/// <summary>
/// One publisher's reusable message: the payload array is re-stamped before each PUBLISH is written,
/// so publishing allocates nothing. Belongs to one client (the stamp is written under its lock).
/// </summary>
public sealed class BotPublication
{
    public BotPublication(string topic, int payloadSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadSize);
        Payload = new byte[payloadSize];
        // Filler after the stamp so payloads are not all zeros (compressing links would flatter them).
        for (var i = PayloadStamp.Size; i < Payload.Length; i++)
        {
            Payload[i] = (byte)('a' + (i % 26));
        }

        Message = new MqttApplicationMessage { Topic = topic, Payload = Payload };
    }

    public byte[] Payload { get; }

    public MqttApplicationMessage Message { get; }

    /// <summary>PUBLISH packets written, warm-up included.</summary>
    public long SentCount => Volatile.Read(ref _sent);

    /// <summary>PUBLISH packets written at or after the end of warm-up.</summary>
    public long MeasuredCount => Volatile.Read(ref _measured);

    private long _sent;
    private long _measured;

    internal void Written(bool measured)
    {
        Interlocked.Increment(ref _sent);
        if (measured)
        {
            Interlocked.Increment(ref _measured);
        }
    }
}
