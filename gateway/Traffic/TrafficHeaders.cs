using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Traffic;

/// <summary>The header names of traffic routing (docs/traffic.md): what a client sends, what it gets back, what backends and peer gateways see.</summary>
internal static class TrafficHeaders
{
    /// <summary>Request and response: the signed zone cookie.</summary>
    public const string ZoneCookie = "mlp-zone-cookie";

    /// <summary>Request: <c>1</c> marks a full-link load-test call.</summary>
    public const string LoadTest = "mlp-load-test";

    /// <summary>Response metadata: where the call went and why.</summary>
    public const string Zone = "mlp-zone";
    public const string Site = "mlp-site";
    public const string Group = "mlp-group";
    public const string Reason = "mlp-route-reason";
    public const string GrayRule = "mlp-gray-rule";
    public const string TableVersion = "mlp-table-version";

    /// <summary>Response metadata: the site whose gateway forwarded the call (absent when it was served where it arrived).</summary>
    public const string ForwardedBy = "mlp-forwarded-by";

    /// <summary>To the backend: the zone and group serving the call, and the load-test mark.</summary>
    public const string BackendZone = "x-mlp-zone";
    public const string BackendGroup = "x-mlp-group";
    public const string BackendLoadTest = "x-mlp-load-test";

    /// <summary>Between gateways: the site of the forwarding gateway (the hop), when it signed, the signature, and the caller's HELLO facts.</summary>
    public const string Hop = "x-traffic-hop";
    public const string Time = "x-traffic-time";
    public const string Signature = "x-traffic-signature";
    public const string Status = "x-traffic-status";
    public const string Idempotent = "x-traffic-idempotent";
    public const string Platform = "x-traffic-platform";
    public const string AppVersion = "x-traffic-app-version";

    /// <summary>Client headers the gateway consumes or sets itself: never passed on as the client sent them.</summary>
    public static bool IsReserved(string name) =>
        name is ZoneCookie or LoadTest or BackendZone or BackendGroup or BackendLoadTest
        || name.StartsWith("x-traffic-", StringComparison.Ordinal);

    public static string? Find(IReadOnlyList<HeaderField> headers, string name)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            if (headers[i].Name == name)
            {
                return headers[i].Value;
            }
        }

        return null;
    }
}

/// <summary>A request's headers for gray rules that match one.</summary>
internal sealed class TrafficHeaderList(IReadOnlyList<HeaderField> headers) : ITrafficHeaders
{
    public bool TryGet(string name, out string? value)
    {
        value = TrafficHeaders.Find(headers, name);
        return value is not null;
    }
}
