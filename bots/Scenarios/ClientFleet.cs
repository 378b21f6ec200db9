using System.Collections.Concurrent;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// The clients of one process: opens them at a paced rate with bounded handshakes in flight, keeps
/// them alive, and closes them all. Client i of each <see cref="ConnectAsync"/> call goes to broker
/// i mod N of the list; each new socket takes the next source address in turn. A connection lost while
/// the fleet runs is connected again to the next broker, after a capped, jittered backoff
/// (<see cref="ReconnectBackoff"/>), with its subscription renewed.
/// </summary>
public sealed class ClientFleet : IAsyncDisposable
{
    private readonly IReadOnlyList<BotConnectionSettings> _brokers;
    private readonly BotStats _stats;
    private readonly SourceAddressPool _sources;
    private readonly TimeProvider _time;
    private readonly ReconnectBackoff? _reconnect;
    private readonly ConcurrentQueue<ClientSlot> _slots = new();
    private readonly ConcurrentDictionary<ClientSlot, Task> _reconnecting = new();
    private readonly CancellationTokenSource _closing = new();
    private int _nextSource;

    /// <param name="brokers">One entry per broker, in order (at least one).</param>
    /// <param name="reconnect">How lost connections are reconnected; null leaves them closed.</param>
    public ClientFleet(IReadOnlyList<BotConnectionSettings> brokers, BotStats stats, SourceAddressPool sources, TimeProvider time, ReconnectBackoff? reconnect)
    {
        ArgumentNullException.ThrowIfNull(brokers);
        ArgumentOutOfRangeException.ThrowIfZero(brokers.Count);
        _brokers = brokers;
        _stats = stats ?? throw new ArgumentNullException(nameof(stats));
        _sources = sources ?? throw new ArgumentNullException(nameof(sources));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _reconnect = reconnect;
    }

    public int Count => _slots.Count;

    /// <summary>
    /// Connects one client per id, starting them at <paramref name="rate"/> per second (0 = unpaced) with at most
    /// <paramref name="concurrency"/> handshakes at once. Stops starting new ones when <paramref name="cancellationToken"/>
    /// fires. Returns the slots aligned with <paramref name="clientIds"/>, null where the connect failed or never started.
    /// Client i goes to broker (<paramref name="firstEndpoint"/> + i) mod N: p2p subscribers shifted by one from their
    /// publishers are all on another node (--subscriber-offset).
    /// </summary>
    public async Task<ClientSlot?[]> ConnectAsync(IReadOnlyList<string> clientIds, double rate, int concurrency, CancellationToken cancellationToken, int firstEndpoint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstEndpoint);
        ArgumentNullException.ThrowIfNull(clientIds);
        var result = new ClientSlot?[clientIds.Count];
        using var gate = new SemaphoreSlim(concurrency, concurrency);
        var running = new List<Task>(Math.Min(clientIds.Count, 65_536));
        var start = _time.GetTimestamp();
        try
        {
            for (var i = 0; i < clientIds.Count; i++)
            {
                if (rate > 0)
                {
                    var due = TimeSpan.FromSeconds(i / rate);
                    var wait = due - _time.GetElapsedTime(start);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _time, cancellationToken);
                    }
                }

                await gate.WaitAsync(cancellationToken);
                var index = i;
                running.Add(ConnectOneAsync(clientIds[index], result, index, (firstEndpoint + index) % _brokers.Count, gate, cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The connect phase ran out of time: report what was established.
        }

        await Task.WhenAll(running);
        return result;
    }

    /// <summary>Sends PINGREQ on every client idle for half its keep alive, checking once a second, until cancelled.</summary>
    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        var keepAlive = _brokers[0].KeepAliveSeconds;
        if (keepAlive == 0)
        {
            return;
        }

        var idleTicks = keepAlive * System.Diagnostics.Stopwatch.Frequency / 2;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
                var now = System.Diagnostics.Stopwatch.GetTimestamp();
                foreach (var slot in _slots)
                {
                    slot.Current.PingIfIdle(now, idleTicks);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Stops reconnecting, then disconnects every client, <paramref name="concurrency"/> at a time.</summary>
    public async Task DisconnectAllAsync(int concurrency)
    {
        await _closing.CancelAsync();
        await Task.WhenAll(_reconnecting.Values);
        var slots = new List<ClientSlot>();
        while (_slots.TryDequeue(out var slot))
        {
            slots.Add(slot);
            slot.End();
        }

        await Parallel.ForEachAsync(
            slots,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency) },
            async (slot, _) => await slot.Current.DisconnectAsync(TimeSpan.FromSeconds(2)));
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAllAsync(256);
        _closing.Dispose();
    }

    private async Task ConnectOneAsync(string clientId, ClientSlot?[] result, int index, int endpoint, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        // Let the pacing loop go on while this handshake runs.
        await Task.Yield();
        var client = new BotMqttClient(_brokers[endpoint], _stats);
        try
        {
            var source = _sources.For(Interlocked.Increment(ref _nextSource) - 1);
            await client.ConnectAsync(clientId, source, cancellationToken);
            var slot = new ClientSlot(clientId, endpoint, client);
            _slots.Enqueue(slot);
            result[index] = slot;
            Watch(slot, client);
        }
        catch (BotConnectException)
        {
            // Counted by the client under its kind.
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>When <paramref name="client"/>'s connection is lost (not closed by us), starts reconnecting its slot.</summary>
    private void Watch(ClientSlot slot, BotMqttClient client)
    {
        _ = client.Closed.ContinueWith(
            static (closed, state) =>
            {
                var (fleet, slot) = ((ClientFleet, ClientSlot))state!;
                if (closed.Result is null)
                {
                    return;
                }

                fleet._stats.ConnectionLost();
                if (fleet._reconnect is null || fleet._closing.IsCancellationRequested)
                {
                    slot.End();
                    return;
                }

                fleet._reconnecting[slot] = fleet.ReconnectAsync(slot);
            },
            (this, slot),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Connects the slot's client id again and swaps the new connection in; ends the slot when the fleet closes first.</summary>
    private async Task ReconnectAsync(ClientSlot slot)
    {
        await Task.Yield();
        var next = await ConnectNextAsync(slot, _closing.Token);
        _reconnecting.TryRemove(slot, out _);
        if (next is not { } connected)
        {
            slot.End();
            return;
        }

        slot.Replace(connected.Client, connected.Endpoint);
        if (_closing.IsCancellationRequested)
        {
            // Connected while the fleet began closing: nobody will disconnect it later.
            await connected.Client.DisconnectAsync(TimeSpan.FromSeconds(1));
            return;
        }

        Watch(slot, connected.Client);
    }

    /// <summary>Tries the next broker, then the one after, ... with the backoff between attempts, until one takes the client id.</summary>
    private async Task<(BotMqttClient Client, int Endpoint)?> ConnectNextAsync(ClientSlot slot, CancellationToken stop)
    {
        var endpoint = slot.Endpoint;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                await Task.Delay(_reconnect!.Delay(attempt, Random.Shared.NextDouble()), _time, stop);
                endpoint = (endpoint + 1) % _brokers.Count;
                var client = new BotMqttClient(_brokers[endpoint], _stats);
                try
                {
                    await client.ConnectAsync(slot.ClientId, _sources.For(Interlocked.Increment(ref _nextSource) - 1), stop, reconnect: true);
                    if (slot.Subscription is { } subscription && !await client.SubscribeAsync(subscription.Filter, subscription.Qos, stop))
                    {
                        await client.DisconnectAsync(TimeSpan.FromSeconds(1));
                        continue;
                    }

                    return (client, endpoint);
                }
                catch (BotConnectException)
                {
                    // Counted by the client as reconnect_<kind>: on to the next broker.
                }
                catch (OperationCanceledException)
                {
                    await client.DisposeAsync();
                    throw;
                }
                catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
                {
                    _stats.Error("reconnect_subscribe_failed");
                    await client.DisposeAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null; // the fleet is closing
        }
    }
}
