using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Management;
using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AccessLayer.Gateway.Telemetry;

/// <summary>
/// Metrics and traces through the OpenTelemetry SDK: the gateway's meter goes to a Prometheus reader
/// (<c>/metrics</c> on the management surface) and, with <c>Otlp:Endpoint</c>, to an OTLP reader; the
/// gateway's spans go to OTLP. Nothing else is listened to.
/// </summary>
internal static class TelemetryExtensions
{
    /// <summary>The prefix every exported metric name carries (<c>mqtt.connections</c> is <c>accesslayer_mqtt_connections</c> on <c>/metrics</c>).</summary>
    public const string MetricPrefix = "accesslayer.";

    /// <summary>The ActivitySource of HttpClient's request spans.</summary>
    public const string HttpClientSourceName = "System.Net.Http";

    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OtlpOptions>().Bind(builder.Configuration.GetSection(OtlpOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OtlpOptions>, OtlpOptionsValidator>();
        var otlp = builder.Configuration.GetSection(OtlpOptions.SectionName).Get<OtlpOptions>() ?? new OtlpOptions();
        var endpoint = otlp.IsEnabled && Uri.TryCreate(otlp.Endpoint, UriKind.Absolute, out var parsed) ? parsed : null;

        // Only this host's meters (those its IMeterFactory made): several gateways in one process, as in the
        // tests, each serve their own figures. The SDK is told no meter itself, so this rule decides.
        builder.Metrics.EnableMetrics(GatewayMetrics.MeterName, instrumentName: null, listenerName: "OpenTelemetry", MeterScope.Local);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(otlp.ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddView(instrument => instrument.Meter.Name == GatewayMetrics.MeterName
                    ? new MetricStreamConfiguration { Name = MetricPrefix + instrument.Name }
                    : null);
                metrics.AddPrometheusExporter(prometheus =>
                {
                    // Every scrape reads the instruments: a test (or an operator) sees what just happened.
                    prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                    // Series keep the labels the instruments have and nothing more.
                    prometheus.ScopeInfoEnabled = false;
                });
                if (endpoint is not null)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        Configure(exporter, otlp, endpoint, "v1/metrics");
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlp.MetricExportInterval.TotalMilliseconds;
                    });
                }
            });
        if (endpoint is not null)
        {
            var ratio = new TraceIdRatioBasedSampler(otlp.TraceSampleRatio);
            telemetry.WithTracing(tracing => tracing
                // HttpClient's own span of a backend call (System.Net.Http): the backend's traceparent names it.
                .AddSource(GatewayTelemetry.SourceName, HttpClientSourceName)
                // A caller's sampled (or unsampled) traceparent decides; a local parent nobody records (ASP.NET Core's
                // activity of a WebSocket link or of the HTTP fallback, not traced here) does not: the ratio does.
                .SetSampler(new ParentBasedSampler(ratio, null, null, null, ratio))
                .AddOtlpExporter(exporter => Configure(exporter, otlp, endpoint, "v1/traces")));
        }

        return builder;
    }

    /// <summary>Maps <c>/metrics</c> (Prometheus text) on <paramref name="probes"/>: the management surface, without a token.</summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder probes) =>
        probes.MapPrometheusScrapingEndpoint("/metrics");

    private static void Configure(OtlpExporterOptions exporter, OtlpOptions options, Uri endpoint, string signalPath)
    {
        exporter.Protocol = options.IsHttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        // Set in code, the http/protobuf endpoint is used as given: the signal's path is added here, as the OTLP spec's variable would.
        exporter.Endpoint = options.IsHttpProtobuf ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath) : endpoint;
        if (!string.IsNullOrWhiteSpace(options.Headers))
        {
            exporter.Headers = options.Headers;
        }
    }
}
