using System.Diagnostics;

namespace AccessLayer.Gateway.Telemetry;

/// <summary>
/// The gateway's spans: one per MLP request (routing and backend call), MQTT CONNECT (with the fleet claim),
/// a session handed over to another node, and a drain; never one per MQTT message. With no listener
/// (no <c>Otlp:Endpoint</c>) <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and costs a field read.
/// </summary>
internal static class GatewayTelemetry
{
    public const string SourceName = "AccessLayer.Gateway";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Sets a tag on the current activity only when it is one of ours (an HTTP request's activity may be current on WebSocket links).</summary>
    public static void TagCurrent(string key, object? value)
    {
        if (Activity.Current is { Source: var source } current && ReferenceEquals(source, Source))
        {
            current.SetTag(key, value);
        }
    }
}
