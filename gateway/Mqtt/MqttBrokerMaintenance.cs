using System.Text;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// Once a second: closes connections that sent no CONNECT in time or missed their keep alive,
/// ends expired sessions, publishes delayed wills that fell due, drops expired retained
/// messages, and refreshes the <c>$SYS/broker/...</c> topics. Driven by the injected
/// <see cref="TimeProvider"/> so tests advance it by hand.
/// </summary>
internal sealed class MqttBrokerMaintenance(MqttBroker broker, IOptionsMonitor<MqttOptions> options, TimeProvider time, ILogger<MqttBrokerMaintenance> logger) : BackgroundService
{
    private static readonly string Version = typeof(MqttBroker).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    private long _lastSysTimestamp;
    private long _sweeps;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync("mqtt_maintenance", TimeSpan.FromSeconds(1), time, RunOnceAsync, broker.Metrics, logger, stoppingToken);

    public async ValueTask RunOnceAsync()
    {
        var now = time.GetTimestamp();
        var current = options.CurrentValue;
        var governance = broker.Governance;
        var handshakeTimeout = governance.HandshakeTimeout;
        governance.Memory.Sample();
        if (++_sweeps % 10 == 0)
        {
            governance.Flapping.Sweep();
        }

        foreach (var connection in broker.Connections)
        {
            if (!connection.IsConnected)
            {
                if (!connection.IsClosing && time.GetElapsedTime(connection.AcceptedTimestamp, now) > handshakeTimeout)
                {
                    MqttLog.ConnectTimeout(logger, connection.ConnectionId, connection.RemoteEndPoint, (int)handshakeTimeout.TotalSeconds);
                    broker.Metrics.Evicted("handshake_timeout");
                    connection.RequestClose("no CONNECT in time");
                }

                continue;
            }

            if (connection.BehindSince is var behind and not 0 && !connection.IsClosing && time.GetElapsedTime(behind, now) > governance.Limits.SlowConsumerGrace)
            {
                connection.EvictSlowConsumer();
                continue;
            }

            var keepAlive = connection.KeepAliveSeconds;
            // A publisher paused by back-pressure is silent because we stopped reading it, not because it went away.
            if (keepAlive > 0 && !connection.IsClosing && connection.PausedSince == 0 && time.GetElapsedTime(connection.LastPacketTimestamp, now) > TimeSpan.FromSeconds(keepAlive * 1.5))
            {
                MqttLog.KeepAliveTimeout(logger, connection.ClientId!, keepAlive);
                connection.Evict(MqttReasonCode.KeepAliveTimeout, "keep_alive_timeout", "Keep alive timeout.");
            }
        }

        var expired = await broker.Sessions.RemoveExpiredAsync().ConfigureAwait(false);
        foreach (var clientId in expired.ExpiredClientIds)
        {
            MqttLog.SessionExpired(logger, clientId);
            await broker.Router.RemoveClientAsync(clientId).ConfigureAwait(false);
            await broker.EndInFleetAsync(clientId).ConfigureAwait(false);
        }

        foreach (var will in expired.DueWills)
        {
            await broker.PublishAsync(will, publisherClientId: null).ConfigureAwait(false);
        }

        await broker.Retained.RemoveExpiredAsync().ConfigureAwait(false);

        if (current.SysInterval > 0 && (_lastSysTimestamp == 0 || time.GetElapsedTime(_lastSysTimestamp, now) >= TimeSpan.FromSeconds(current.SysInterval)))
        {
            _lastSysTimestamp = now;
            await PublishSysTopicsAsync().ConfigureAwait(false);
        }
    }

    private async Task PublishSysTopicsAsync()
    {
        var metrics = broker.Metrics;
        await PublishSysAsync("$SYS/broker/version", "AccessLayer " + Version).ConfigureAwait(false);
        await PublishSysAsync("$SYS/broker/uptime", ((long)(time.GetUtcNow() - broker.StartedAt).TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) + " seconds").ConfigureAwait(false);
        await PublishSysAsync("$SYS/broker/clients/connected", broker.ConnectedClientCount.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
        await PublishSysAsync("$SYS/broker/messages/received", metrics.MessagesReceivedTotal.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
        await PublishSysAsync("$SYS/broker/messages/sent", metrics.MessagesSentTotal.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>$SYS/broker/...</c> is this node's and stays on it (a client reads the node it is connected to). In a fleet each node
    /// also publishes <c>$SYS/brokers/{node id}/...</c> fleet-wide (EMQX's layout), so no node overwrites another's figures.
    /// </summary>
    private async ValueTask PublishSysAsync(string topic, string value)
    {
        var payload = Encoding.UTF8.GetBytes(value);
        await broker.PublishLocalAsync(new MqttApplicationMessage { Topic = topic, Payload = payload, Retain = true }).ConfigureAwait(false);
        if (broker.Fleet.IsEnabled && broker.Fleet.NodeId.Length > 0)
        {
            var nodeTopic = "$SYS/brokers/" + broker.Fleet.NodeId + topic["$SYS/broker".Length..];
            await broker.PublishAsync(new MqttApplicationMessage { Topic = nodeTopic, Payload = payload, Retain = true }, publisherClientId: null).ConfigureAwait(false);
        }
    }
}
