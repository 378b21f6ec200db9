using System.Collections.Concurrent;
using System.Diagnostics;

namespace AccessLayer.Bots.Metrics;

/// <summary>
/// Counters shared by every client of one run. Messages count only when their send timestamp is at or
/// after <see cref="MeasureFrom"/> (the end of warm-up), so warm-up traffic never leaks into rates.
/// </summary>
public sealed class BotStats
{
    private long _connected;
    private long _connectAttempts;
    private long _connectFailures;
    private long _connectionsLost;
    private long _reconnects;
    private long _published;
    private long _publishedAll;
    private long _acked;
    private long _received;
    private long _receivedAll;
    private long _lastReceiveTimestamp;
    private long _firstReceiveTimestamp;
    private long _firstLossTimestamp;
    private long _lastReconnectTimestamp;
    private long _bytesSent;
    private long _bytesReceived;
    private LatencyHistogram _intervalLatency = new();

    public BotStats()
    {
        MeasureFrom = Stopwatch.GetTimestamp();
    }

    /// <summary>Stopwatch timestamp from which sends and receipts are measured.</summary>
    public long MeasureFrom { get; set; }

    /// <summary>Round-trip latency of each measured message, in microseconds.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>
    /// Hands over the latencies recorded since the last call (warm-up included) and starts a new interval:
    /// what --interval reports. A receipt racing the swap may land in the handed-over histogram after it was
    /// read; it still counts in <see cref="Latency"/>.
    /// </summary>
    public LatencyHistogram TakeIntervalLatency() => Interlocked.Exchange(ref _intervalLatency, new LatencyHistogram());

    /// <summary>TCP connect to CONNACK, in microseconds.</summary>
    public LatencyHistogram ConnectLatency { get; } = new();

    /// <summary>TCP connect to CONNACK of each successful reconnect (a session taken over on the next broker), in microseconds.</summary>
    public LatencyHistogram ReconnectLatency { get; } = new();

    /// <summary>Stopwatch timestamp of the first lost connection, 0 when none was lost.</summary>
    public long FirstLossTimestamp => Volatile.Read(ref _firstLossTimestamp);

    /// <summary>Stopwatch timestamp of the latest successful reconnect, 0 when none.</summary>
    public long LastReconnectTimestamp => Volatile.Read(ref _lastReconnectTimestamp);

    public ConcurrentDictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public long Connected => Volatile.Read(ref _connected);

    public long ConnectAttempts => Volatile.Read(ref _connectAttempts);

    public long ConnectFailures => Volatile.Read(ref _connectFailures);

    /// <summary>Established connections that ended without this side closing them (broker gone, reset, closed by the broker).</summary>
    public long ConnectionsLost => Volatile.Read(ref _connectionsLost);

    /// <summary>Lost connections connected again (to the next broker).</summary>
    public long Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Measured PUBLISH packets written.</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Every PUBLISH written, warm-up included (the live view).</summary>
    public long PublishedAll => Volatile.Read(ref _publishedAll);

    /// <summary>QoS 1/2 publishes the broker acknowledged (PUBACK / PUBCOMP), warm-up included.</summary>
    public long Acked => Volatile.Read(ref _acked);

    /// <summary>Measured messages received (sent at or after <see cref="MeasureFrom"/>).</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Every PUBLISH received, warm-up included (the live view).</summary>
    public long ReceivedAll => Volatile.Read(ref _receivedAll);

    /// <summary>Stopwatch timestamp of the last measured receipt, 0 when none.</summary>
    public long LastReceiveTimestamp => Volatile.Read(ref _lastReceiveTimestamp);

    public long FirstReceiveTimestamp => Volatile.Read(ref _firstReceiveTimestamp);

    public long TotalErrors => Errors.Values.Sum();

    /// <summary>MLP: bytes of measured REQUEST frames written and RESPONSE frames read (what the socket carried).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>A measured call's wire cost; calls started in warm-up are not counted.</summary>
    public void CallBytes(long sendTimestamp, long sent, long received)
    {
        if (sendTimestamp >= MeasureFrom)
        {
            Interlocked.Add(ref _bytesSent, sent);
            Interlocked.Add(ref _bytesReceived, received);
        }
    }

    public void ConnectAttempt() => Interlocked.Increment(ref _connectAttempts);

    public void ConnectSucceeded(long elapsedTicks)
    {
        Interlocked.Increment(ref _connected);
        ConnectLatency.Record(TicksToMicroseconds(elapsedTicks));
    }

    public void Disconnected() => Interlocked.Decrement(ref _connected);

    public void ConnectionLost()
    {
        Interlocked.Increment(ref _connectionsLost);
        Interlocked.CompareExchange(ref _firstLossTimestamp, Stopwatch.GetTimestamp(), 0);
    }

    /// <summary>A lost connection's client id connected again; timed in <see cref="ReconnectLatency"/>, not <see cref="ConnectLatency"/> (the first connects).</summary>
    public void Reconnected(long elapsedTicks)
    {
        Interlocked.Increment(ref _connected);
        Interlocked.Increment(ref _reconnects);
        ReconnectLatency.Record(TicksToMicroseconds(elapsedTicks));
        var now = Stopwatch.GetTimestamp();
        long last;
        while (now > (last = Volatile.Read(ref _lastReconnectTimestamp)) && Interlocked.CompareExchange(ref _lastReconnectTimestamp, now, last) != last)
        {
        }
    }

    /// <summary>Seconds from the first lost connection to the latest reconnect; 0 when nothing was lost or reconnected.</summary>
    public double RecoverySeconds()
    {
        var first = FirstLossTimestamp;
        var last = LastReconnectTimestamp;
        return first == 0 || last <= first ? 0 : (last - first) / (double)Stopwatch.Frequency;
    }

    public void ConnectFailed(string kind)
    {
        Interlocked.Increment(ref _connectFailures);
        Error(kind);
    }

    public void Error(string kind) => Errors.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public void PublishWritten(long sendTimestamp)
    {
        Interlocked.Increment(ref _publishedAll);
        if (sendTimestamp >= MeasureFrom)
        {
            Interlocked.Increment(ref _published);
        }
    }

    /// <summary>A batch of calls written at once (lean MLP client): one update per batch, not per call.</summary>
    public void PublishedBatch(int count, bool measured)
    {
        Interlocked.Add(ref _publishedAll, count);
        if (measured)
        {
            Interlocked.Add(ref _published, count);
        }
    }

    /// <summary>A batch of answers read at once (lean MLP client): <paramref name="good"/> of them measured and echoed correctly.</summary>
    public void ReceivedBatch(int answered, int good)
    {
        Interlocked.Add(ref _receivedAll, answered);
        if (good > 0)
        {
            var now = Stopwatch.GetTimestamp();
            Interlocked.Add(ref _received, good);
            Interlocked.Add(ref _acked, good);
            Interlocked.CompareExchange(ref _firstReceiveTimestamp, now, 0);
            Volatile.Write(ref _lastReceiveTimestamp, now);
        }
    }

    public void PublishAcked() => Interlocked.Increment(ref _acked);

    /// <summary>A PUBLISH arrived; <paramref name="sendTimestamp"/> is 0 when the payload carried none.</summary>
    public void MessageReceived(long sendTimestamp, long now)
    {
        Interlocked.Increment(ref _receivedAll);
        if (sendTimestamp <= 0 || sendTimestamp > now)
        {
            return;
        }

        var microseconds = TicksToMicroseconds(now - sendTimestamp);
        Volatile.Read(ref _intervalLatency).Record(microseconds);
        if (sendTimestamp < MeasureFrom)
        {
            return;
        }

        Interlocked.Increment(ref _received);
        Interlocked.CompareExchange(ref _firstReceiveTimestamp, now, 0);
        Volatile.Write(ref _lastReceiveTimestamp, now);
        Latency.Record(microseconds);
    }

    public static long TicksToMicroseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
