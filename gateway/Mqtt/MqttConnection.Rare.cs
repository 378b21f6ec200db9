using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// State most connections never use (topic aliases, back-pressure waits and
/// waivers, close bookkeeping) lives in one object made on first use, so an idle connection does
/// not carry the fields. Each field keeps the ownership rule it had inline (reader, writer, or
/// under the connection's lock); only its home moved.
/// </summary>
internal sealed partial class MqttConnection
{
    private RareState? _rare;

    private RareState Rare
    {
        get
        {
            if (Volatile.Read(ref _rare) is { } rare)
            {
                return rare;
            }

            var created = new RareState();
            return Interlocked.CompareExchange(ref _rare, created, null) ?? created;
        }
    }

    private sealed class RareState
    {
        // Reader.
        public string?[]? InboundTopicAliases;
        public string? UserName;
        public MqttDisconnectPacket? Disconnect;
        public string? EndReason;
        public Exception? Failure;

        // Reader, publisher side of back-pressure.
        public MqttConnection? PressuredBy;
        public long PausedSince;

        // Writer.
        public Dictionary<string, ushort>? OutboundAliases;

        // Writer sets, maintenance reads (Volatile): when the peer stopped keeping up, 0 while it keeps up.
        public long BehindSince;

        // Under the connection's lock (or Interlocked/Volatile, as inline before).
        public TaskCompletionSource? DrainedSignal;
        public TaskCompletionSource? RelievedSignal;
        public long PressureWaivedUntil;
        public int WaiverWaits;
        public string? CloseReason;
        public Task? CloseTask;
    }
}
