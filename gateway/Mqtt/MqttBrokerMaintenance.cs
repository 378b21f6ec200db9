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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunOnceAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task RunOnceAsync()
    {
        var now = time.GetTimestamp();
        var current = options.CurrentValue;
        foreach (var connection in broker.Connections)
        {
            if (!connection.IsConnected)
            {
                if (time.GetElapsedTime(connection.AcceptedTimestamp, now) > TimeSpan.FromSeconds(current.ConnectTimeoutSeconds))
                {
                    MqttLog.ConnectTimeout(logger, connection.ConnectionId, connection.RemoteEndPoint, current.ConnectTimeoutSeconds);
                    broker.Metrics.Disconnects.Add(1, new KeyValuePair<string, object?>("reason", "connect_timeout"));
                    connection.RequestClose("no CONNECT in time");
                }

                continue;
            }

            var keepAlive = connection.KeepAliveSeconds;
            if (keepAlive > 0 && time.GetElapsedTime(connection.LastPacketTimestamp, now) > TimeSpan.FromSeconds(keepAlive * 1.5))
            {
                MqttLog.KeepAliveTimeout(logger, connection.ClientId!, keepAlive);
                broker.Metrics.Disconnects.Add(1, new KeyValuePair<string, object?>("reason", "keep_alive_timeout"));
                connection.SendDisconnect(MqttReasonCode.KeepAliveTimeout, "Keep alive timeout.");
                connection.RequestClose("keep alive timeout");
            }
        }

        var expired = await broker.Sessions.RemoveExpiredAsync().ConfigureAwait(false);
        foreach (var clientId in expired.ExpiredClientIds)
        {
            MqttLog.SessionExpired(logger, clientId);
            await broker.Router.RemoveClientAsync(clientId).ConfigureAwait(false);
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

    private ValueTask<int> PublishSysAsync(string topic, string value) =>
        broker.PublishAsync(new MqttApplicationMessage { Topic = topic, Payload = Encoding.UTF8.GetBytes(value), Retain = true }, publisherClientId: null);
}
