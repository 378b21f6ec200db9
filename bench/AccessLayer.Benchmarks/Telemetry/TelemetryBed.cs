using System.Text;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Benchmarks.Telemetry;

/// <summary>
/// The gateway's and the MLP instruments with one listener: none, the former hand-written exporter, or the
/// OpenTelemetry SDK exactly as the gateway wires it (<see cref="TelemetryExtensions.AddGatewayTelemetry"/>, a
/// started host). <see cref="Populate"/> gives them the series a busy node has; <see cref="ScrapeAsync"/> writes
/// one <c>/metrics</c> page as each endpoint does.
/// </summary>
internal sealed class TelemetryBed : IDisposable
{
    public const string None = "none";
    public const string HandWritten = "handwritten";
    public const string OpenTelemetry = "otel";

    private readonly WebApplication? _app;
    private readonly ServiceProvider? _services;
    private readonly HandWrittenPrometheusExporter? _handWritten;
    private readonly RequestDelegate? _scrape;

    public TelemetryBed(string listener)
    {
        if (listener == OpenTelemetry)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddMetrics();
            builder.AddGatewayTelemetry();
            builder.Services.AddSingleton<GatewayMetrics>();
            builder.Services.AddSingleton<MlpMetrics>();
            _app = builder.Build();
            _app.StartAsync().GetAwaiter().GetResult();
            Gateway = _app.Services.GetRequiredService<GatewayMetrics>();
            Mlp = _app.Services.GetRequiredService<MlpMetrics>();
            // The SDK's scraping middleware alone (no socket), as the management endpoint runs it.
            var pipeline = new ApplicationBuilder(_app.Services);
            pipeline.UseOpenTelemetryPrometheusScrapingEndpoint();
            _scrape = pipeline.Build();
        }
        else
        {
            _services = new ServiceCollection().AddMetrics().AddSingleton<GatewayMetrics>().AddSingleton<MlpMetrics>().BuildServiceProvider();
            if (listener == HandWritten)
            {
                // As the gateway had it: the exporter exists before the instruments.
                _handWritten = new HandWrittenPrometheusExporter([GatewayMetrics.MeterName], _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
            }

            Gateway = _services.GetRequiredService<GatewayMetrics>();
            Mlp = _services.GetRequiredService<MlpMetrics>();
        }
    }

    public GatewayMetrics Gateway { get; }

    public MlpMetrics Mlp { get; }

    /// <summary>
    /// The series of a busy node: every drop, disconnect and refusal reason, 10 routed services × 5 status classes ×
    /// 2 transports of requests, with counts of a node that has served 15,000 connections. No instrument has a
    /// per-connection label, so the page's size does not grow with the connections, only the values do.
    /// </summary>
    public void Populate()
    {
        string[] drops = ["queue_full", "expired", "slow_consumer", "too_large", "no_subscribers", "offline_qos0", "no_session", "not_authorized"];
        foreach (var reason in drops)
            Gateway.Dropped(reason, 15_000);
        foreach (var reason in new[] { "handshake_timeout", "keep_alive_timeout", "slow_consumer", "publish_rate", "byte_rate", "drain", "admin_kick", "taken_over" })
            Gateway.Disconnects.Add(15_000, new KeyValuePair<string, object?>("reason", reason));
        foreach (var reason in new[] { "draining", "banned", "server_busy" })
            Gateway.ConnectionsRejected.Add(100, new KeyValuePair<string, object?>("reason", reason));
        foreach (var reason in new[] { "max_connections", "listener_full", "connect_rate", "draining" })
        foreach (var listener in new[] { "tcp", "tls", "ws", "wss", "mlp", "mlp-ws", "mlp-wss" })
            Gateway.ConnectionsRefused.Add(10, new("reason", reason), new("listener", listener));
        foreach (var action in new[] { "publish", "subscribe", "resume", "will" })
            Gateway.AclDenied.Add(5, new KeyValuePair<string, object?>("action", action));
        for (var i = 0; i < 15_000; i++)
        {
            Gateway.MqttConnectionOpened();
            Gateway.MessageReceived();
            Gateway.MessageSent();
        }

        foreach (var transport in new[] { "link", "http" })
        foreach (var status in new[] { "1xx", "2xx", "3xx", "4xx", "5xx" })
        for (var service = 0; service < 10; service++)
            Mlp.Requests.Add(1_500, MlpMetrics.Tag("service", "service-" + service), MlpMetrics.Tag("status", status), MlpMetrics.Tag("transport", transport));
        foreach (var kind in new[] { "token", "anonymous", "resumed", "ticket" })
            Mlp.HandshakesAccepted.Add(3_750, MlpMetrics.Tag("kind", kind));
        Mlp.BytesReceived.Add(15_000_000);
        Mlp.BytesSent.Add(15_000_000);
    }

    /// <summary>One <c>/metrics</c> page into <paramref name="into"/>, as the endpoint writes it.</summary>
    public async Task ScrapeAsync(Stream into)
    {
        if (_handWritten is not null)
        {
            // The former endpoint: Results.Text(exporter.Scrape(), ...), UTF-8 bytes of the string.
            await into.WriteAsync(Encoding.UTF8.GetBytes(_handWritten.Scrape()));
            return;
        }

        var context = new DefaultHttpContext { RequestServices = _app!.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/metrics";
        context.Response.Body = into;
        await _scrape!(context);
    }

    public void Dispose()
    {
        _handWritten?.Dispose();
        _services?.Dispose();
        if (_app is not null)
        {
            _app.StopAsync().GetAwaiter().GetResult();
            ((IDisposable)_app).Dispose();
        }
    }
}
