using System.Net;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Transport;
using AccessLayer.Gateway.Transport.Epoll;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// The plain-TCP MQTT listener on the epoll engine (<c>Transport:Engine=Epoll</c>), outside Kestrel's
/// dispatcher: the same connection pipeline Kestrel would run (governance, then the MQTT handler),
/// built with <see cref="ConnectionBuilder"/> and fed by the engine's own accept loop.
/// Drain runs before hosted services stop, so by the time <see cref="StopAsync"/> aborts what is left
/// the clients have been moved already.
/// </summary>
internal sealed class EpollMqttListener(IServiceProvider services, IOptions<MqttOptions> mqtt, IOptions<TransportOptions> transport, ILogger<EpollMqttListener> logger)
    : IHostedService, IAsyncDisposable
{
    private EpollEngine? _engine;

    /// <summary>The bound endpoint once started (null while stopped or when <c>Mqtt:Port</c> is 0).</summary>
    public IPEndPoint? EndPoint => _engine?.EndPoint;

    /// <summary>The engine while started.</summary>
    internal EpollEngine? Engine => _engine;

    /// <summary>Connections whose pipeline still runs.</summary>
    public int LiveConnections => _engine?.LiveConnections ?? 0;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (mqtt.Value.Port <= 0)
        {
            return;
        }

        // The same pipeline as the Kestrel listener, except that the handler's guard (an async box per
        // connection around RunAsync) is replaced by the engine watching RunAsync's task and reporting
        // a failure through the handler, with the same log event.
        var handler = ActivatorUtilities.GetServiceOrCreateInstance<MqttConnectionHandler>(services);
        var pipeline = new ConnectionBuilder(services)
            .UseConnectionGovernance(ListenerNames.MqttTcp)
            .Run(handler.RunUnguardedAsync)
            .Build();
        var options = transport.Value;
        var engine = new EpollEngine(options.EffectiveEpollLoops, options.EpollInlineContinuations, pipeline, handler.OnFailed, logger, services.GetRequiredService<Metrics.GatewayMetrics>(), time: services.GetRequiredService<TimeProvider>());
        try
        {
            engine.Start(new IPEndPoint(GatewayApp.ParseAddress(mqtt.Value.BindAddress), mqtt.Value.Port));
        }
        catch
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _engine = engine;
        EpollLog.Listening(logger, engine.EndPoint!, options.EffectiveEpollLoops, options.EpollInlineContinuations);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _engine?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_engine is { } engine)
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
    }
}
