using System.Net;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Security;
using AccessLayer.Gateway.Transport;
using AccessLayer.Gateway.Transport.Epoll;
using AccessLayer.Gateway.Transport.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// The TLS listeners on the epoll engine (<c>Transport:Engine=Epoll</c>, TLS configured): MQTT on <c>Mqtt:TlsPort</c>
/// and MLP on <c>Mlp:TlsPort</c>, each an <see cref="EpollEngine"/> whose connections read and write through OpenSSL
/// (<see cref="TlsServer"/>), with the same pipelines as their plain listeners. The TLS handshake runs inside the
/// connection's first reads, so the protocol's own connect timeout (MQTT CONNECT, MLP HELLO) bounds it too.
/// </summary>
internal sealed class EpollTlsListeners(
    IServiceProvider services,
    IOptions<MqttOptions> mqtt,
    IOptions<MlpOptions> mlp,
    IOptions<TlsOptions> tls,
    IOptions<TransportOptions> transport,
    TimeProvider time,
    ILogger<EpollTlsListeners> logger) : IHostedService, IAsyncDisposable
{
    private readonly List<EpollEngine> _engines = [];

    /// <summary>The bound MQTT TLS endpoint once started.</summary>
    public IPEndPoint? MqttEndPoint { get; private set; }

    /// <summary>The bound MLP TLS endpoint once started.</summary>
    public IPEndPoint? MlpEndPoint { get; private set; }

    /// <summary>Whether the epoll engine serves the TLS ports under this configuration (else Kestrel does).</summary>
    public static bool Serves(TransportOptions transport, TlsOptions tls) => transport.EffectiveEngine == TransportEngine.Epoll && tls.IsConfigured;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Serves(transport.Value, tls.Value) || (mqtt.Value.TlsPort <= 0 && mlp.Value.TlsPort <= 0))
        {
            return;
        }

        var server = services.GetRequiredService<TlsServer>();
        // Fails the start when OpenSSL refuses the certificates, rather than every handshake later.
        _ = server.Current;
        try
        {
            if (mqtt.Value.TlsPort > 0)
            {
                var handler = ActivatorUtilities.GetServiceOrCreateInstance<MqttConnectionHandler>(services);
                var pipeline = new ConnectionBuilder(services)
                    .UseConnectionGovernance(ListenerNames.MqttTls)
                    .Run(handler.RunUnguardedAsync)
                    .Build();
                MqttEndPoint = Start(ListenerNames.MqttTls, pipeline, handler.OnFailed, server, mqtt.Value.BindAddress, mqtt.Value.TlsPort, earlyData: false);
            }

            if (mlp.Value.TlsPort > 0)
            {
                var pipeline = new ConnectionBuilder(services)
                    .UseConnectionGovernance(ListenerNames.MlpTls, MlpAdmissionRefusal.Writer(services))
                    .UseMlpLossRecovery()
                    .UseConnectionHandler<MlpConnectionHandler>()
                    .Build();
                MlpEndPoint = Start(ListenerNames.MlpTls, pipeline, (connection, ex) => EpollLog.ConnectionFailed(logger, ex, connection.ConnectionId), server, mlp.Value.BindAddress, mlp.Value.TlsPort, earlyData: true);
            }
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var engine in _engines)
        {
            await engine.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }

        _engines.Clear();
    }

    private IPEndPoint Start(string listener, ConnectionDelegate pipeline, Action<ConnectionContext, Exception> onFailed, TlsServer server, string bindAddress, int port, bool earlyData)
    {
        var options = transport.Value;
        var engine = new EpollEngine(options.EffectiveEpollLoops, options.EpollInlineContinuations, pipeline, onFailed, logger,
            services.GetRequiredService<Metrics.GatewayMetrics>(), time: time, tls: earlyData ? fd => server.Accept(fd, time, earlyData: true) : fd => server.Accept(fd, time));
        _engines.Add(engine);
        engine.Start(new IPEndPoint(GatewayApp.ParseAddress(bindAddress), port));
        EpollLog.ListeningTls(logger, listener, engine.EndPoint!, options.EffectiveEpollLoops);
        return engine.EndPoint!;
    }
}
