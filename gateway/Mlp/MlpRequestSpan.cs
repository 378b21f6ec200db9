using System.Diagnostics;
using AccessLayer.Gateway.Telemetry;

namespace AccessLayer.Gateway.Mlp;

/// <summary>
/// The span of one MLP request through the gateway: routing and the backend call, with the service, operation,
/// transport and status. Null when nobody listens (no <c>Otlp:Endpoint</c>) or the trace is not sampled. While it
/// is current, an HTTP backend call carries its <c>traceparent</c> (HttpClient's diagnostics handler adds it).
/// </summary>
internal static class MlpRequestSpan
{
    public const string Name = "mlp.request";

    public static Activity? Start(string service, string operation, string transport, string? deviceId)
    {
        var span = GatewayTelemetry.Source.StartActivity(Name, ActivityKind.Server);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("mlp.service", service);
            span.SetTag("mlp.operation", operation);
            span.SetTag("mlp.transport", transport);
            if (deviceId is not null)
                span.SetTag("mlp.device_id", deviceId);
        }

        return span;
    }

    /// <summary>Records the answer's status and ends the span (a 5xx marks it failed).</summary>
    public static void End(Activity? span, int status)
    {
        if (span is null)
            return;
        span.SetTag("mlp.status", status);
        if (status >= 500)
            span.SetStatus(ActivityStatusCode.Error);
        span.Dispose();
    }
}
