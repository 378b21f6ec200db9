using System.Collections.Concurrent;
using AccessLayer.Bots.Client;
using AccessLayer.Bots.Metrics;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// The clients of one process: opens them at a paced rate with bounded handshakes in flight, keeps
/// them alive, and closes them all. Each new socket takes the next source address in turn.
/// </summary>
public sealed class ClientFleet : IAsyncDisposable
{
    private readonly BotConnectionSettings _settings;
    private readonly BotStats _stats;
    private readonly SourceAddressPool _sources;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<BotMqttClient> _clients = new();
    private int _nextSource;

    public ClientFleet(BotConnectionSettings settings, BotStats stats, SourceAddressPool sources, TimeProvider time)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _stats = stats ?? throw new ArgumentNullException(nameof(stats));
        _sources = sources ?? throw new ArgumentNullException(nameof(sources));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public int Count => _clients.Count;

    /// <summary>
    /// Connects one client per id, starting them at <paramref name="rate"/> per second (0 = unpaced) with at most
    /// <paramref name="concurrency"/> handshakes at once. Stops starting new ones when <paramref name="cancellationToken"/>
    /// fires. Returns the clients aligned with <paramref name="clientIds"/>, null where the connect failed or never started.
    /// </summary>
    public async Task<BotMqttClient?[]> ConnectAsync(IReadOnlyList<string> clientIds, double rate, int concurrency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        var result = new BotMqttClient?[clientIds.Count];
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
                running.Add(ConnectOneAsync(clientIds[index], result, index, gate, cancellationToken));
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
        if (_settings.KeepAliveSeconds == 0)
        {
            return;
        }

        var idleTicks = _settings.KeepAliveSeconds * System.Diagnostics.Stopwatch.Frequency / 2;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
                var now = System.Diagnostics.Stopwatch.GetTimestamp();
                foreach (var client in _clients)
                {
                    client.PingIfIdle(now, idleTicks);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Disconnects every client, <paramref name="concurrency"/> at a time.</summary>
    public async Task DisconnectAllAsync(int concurrency)
    {
        var clients = new List<BotMqttClient>();
        while (_clients.TryDequeue(out var client))
        {
            clients.Add(client);
        }

        await Parallel.ForEachAsync(
            clients,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency) },
            async (client, _) => await client.DisconnectAsync(TimeSpan.FromSeconds(2)));
    }

    public async ValueTask DisposeAsync() => await DisconnectAllAsync(256);

    private async Task ConnectOneAsync(string clientId, BotMqttClient?[] result, int index, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        // Let the pacing loop go on while this handshake runs.
        await Task.Yield();
        var client = new BotMqttClient(_settings, _stats);
        try
        {
            var source = _sources.For(Interlocked.Increment(ref _nextSource) - 1);
            await client.ConnectAsync(clientId, source, cancellationToken);
            _clients.Enqueue(client);
            result[index] = client;
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
}
