using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// Once a second: closes connections that sent no HELLO within <c>Mlp:HandshakeTimeoutSeconds</c>
/// (GOAWAY HANDSHAKE_TIMEOUT) and those from which nothing arrived for <c>Mlp:IdleTimeoutSeconds</c>
/// (GOAWAY HEARTBEAT_TIMEOUT: missed heartbeats, a dead NAT mapping, a zombie socket). Driven by the
/// injected <see cref="TimeProvider"/>, so tests advance it by hand and call <see cref="RunOnce"/>.
/// </summary>
internal sealed class MlpMaintenance(MlpGateway gateway) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync("mlp_maintenance", TimeSpan.FromSeconds(1), gateway.Time, () =>
        {
            RunOnce();
            return ValueTask.CompletedTask;
        }, gateway.GatewayMetrics, gateway.Logger, stoppingToken);

    private long _lastExpiry = gateway.Time.GetTimestamp();

    /// <summary>One pass; returns how many connections it closed.</summary>
    public int RunOnce()
    {
        var time = gateway.Time;
        var options = gateway.Options;
        var now = time.GetTimestamp();

        // The push store's expiry walks every device: a few times per expiry period, at most once a minute.
        var expiryPeriod = options.PushExpiry / 4 < TimeSpan.FromMinutes(1) ? options.PushExpiry / 4 : TimeSpan.FromMinutes(1);
        if (time.GetElapsedTime(_lastExpiry, now) >= expiryPeriod)
        {
            _lastExpiry = now;
            ExpirePushes();
        }

        // Kept answers of coalesced calls past their window (each coalesced call sweeps too; this covers a quiet node).
        gateway.Calls.Sweep();

        var handshakeTimeout = TimeSpan.FromSeconds(options.HandshakeTimeoutSeconds);
        var idleTimeout = TimeSpan.FromSeconds(options.IdleTimeoutSeconds);
        var closed = 0;
        foreach (var connection in gateway.Connections.All)
        {
            connection.ReleaseIdleQueue();
            if (!connection.IsWelcomed)
            {
                if (time.GetElapsedTime(connection.AcceptedTimestamp, now) >= handshakeTimeout)
                {
                    MlpLog.HandshakeTimeout(gateway.Logger, connection.ConnectionId, null, options.HandshakeTimeoutSeconds);
                    gateway.Metrics.HandshakesRejected.Add(1, MlpMetrics.Tag("code", MlpErrorCode.HandshakeTimeout.ToString()));
                    connection.RequestClose(MlpErrorCode.HandshakeTimeout, $"No HELLO within {options.HandshakeTimeoutSeconds} s.");
                    closed++;
                }

                continue;
            }

            if (time.GetElapsedTime(connection.LastReceivedTimestamp, now) >= idleTimeout)
            {
                MlpLog.HeartbeatTimeout(gateway.Logger, connection.DeviceId ?? connection.ConnectionId, options.IdleTimeoutSeconds);
                connection.RequestClose(MlpErrorCode.HeartbeatTimeout, $"Nothing received for {options.IdleTimeoutSeconds} s.");
                closed++;
            }
        }

        return closed;
    }

    /// <summary>Drops expired pushes of offline devices (the embedded store; a shared store expires by itself).</summary>
    public int ExpirePushes()
    {
        if (gateway.Sessions is not InMemoryMlpSessionStore store)
            return 0;
        var dropped = store.Expire(device => gateway.Connections.TryGetDevice(device, out _));
        if (dropped > 0)
            gateway.Metrics.PushesDropped.Add(dropped, MlpMetrics.Tag("reason", "expired"));
        return dropped;
    }
}
