using System.Diagnostics;
using AccessLayer.Gateway.Telemetry;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Mlp;

/// <summary>
/// The span of one MLP request through the gateway: routing and the backend call, with the service, operation,
/// transport and status. Null when nobody listens (no <c>Otlp:Endpoint</c>) or the trace is not sampled. While it
/// is current, an HTTP backend call carries its <c>traceparent</c> (HttpClient's diagnostics handler adds it).
/// </summary>
internal static class MlpRequestSpan
{
    public const string Name = "mlp.request";

    /// <param name="headers">The request's headers: a <c>traceparent</c> (and <c>tracestate</c>) the client sent is the span's parent.</param>
    public static Activity? Start(string service, string operation, string transport, string? deviceId, IReadOnlyList<HeaderField> headers)
    {
        if (!GatewayTelemetry.Source.HasListeners())
            return null;
        string? traceParent = null, traceState = null;
        for (var i = 0; i < headers.Count; i++)
        {
            if (headers[i].Name == "traceparent")
                traceParent = headers[i].Value;
            else if (headers[i].Name == "tracestate")
                traceState = headers[i].Value;
        }

        var span = traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent)
            ? GatewayTelemetry.Source.StartActivity(Name, ActivityKind.Server, parent)
            : GatewayTelemetry.Source.StartActivity(Name, ActivityKind.Server);
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

    /// <summary>W3C trace context headers: not forwarded from the client while the gateway's span is current (HttpClient sends the span's).</summary>
    public static bool IsTraceContext(string headerName) =>
        headerName.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || headerName.Equals("tracestate", StringComparison.OrdinalIgnoreCase);

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
