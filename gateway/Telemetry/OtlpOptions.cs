namespace AccessLayer.Gateway.Telemetry;

/// <summary>
/// The <c>Otlp</c> section: where metrics and traces are pushed by OTLP. With no <see cref="Endpoint"/> nothing is
/// pushed and no span is made (<c>/metrics</c> is served either way).
/// </summary>
public sealed class OtlpOptions
{
    public const string SectionName = "Otlp";

    /// <summary>The collector, e.g. <c>http://otel-collector:4317</c> (gRPC) or <c>http://otel-collector:4318</c> (http/protobuf: <c>/v1/metrics</c> and <c>/v1/traces</c> are appended).</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>Extra request headers, <c>key=value</c> pairs separated by commas (an API key).</summary>
    public string? Headers { get; set; }

    /// <summary>Share of traces started here that are kept (ParentBased(TraceIdRatio)): a span whose caller sent a sampled <c>traceparent</c> is always kept.</summary>
    public double TraceSampleRatio { get; set; } = 0.1;

    /// <summary>How often metrics are pushed.</summary>
    public TimeSpan MetricExportInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The <c>service.name</c> resource attribute of everything exported.</summary>
    public string ServiceName { get; set; } = "accesslayer-gateway";

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Endpoint);

    public bool IsHttpProtobuf => string.Equals(Protocol, "http/protobuf", StringComparison.OrdinalIgnoreCase);
}
