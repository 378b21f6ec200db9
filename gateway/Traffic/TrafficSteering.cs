using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Endpoint = AccessLayer.Protocol.Mlp.Envelopes.Endpoint;
using EndpointTransport = AccessLayer.Protocol.Mlp.Envelopes.Transport;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Steering a long-link client home (<c>Traffic:Steer</c>, docs/traffic.md "Steering clients home"): the client
/// endpoints of the site that serves the user's zone, as WELCOME's <c>home_endpoints</c> and as the GOAWAY
/// <c>REDIRECT</c> that moves the client there once a call of its link has been forwarded.
/// </summary>
internal static class TrafficSteering
{
    /// <summary>The site's <c>endpoints</c> as the protocol names places to connect to, each with the zone it serves.</summary>
    public static IEnumerable<Endpoint> Endpoints(TrafficSite site, string? zone)
    {
        foreach (var uri in site.ClientEndpoints)
        {
            var endpoint = MlpDrainParticipant.EndpointOf(uri);
            endpoint.Zone = zone ?? string.Empty;
            yield return endpoint;
        }
    }

    /// <summary>The GOAWAY that sends a link's client to its home site, with its zone cookie (which that site honours).</summary>
    public static GoAway Redirect(TrafficSite home, string? zoneCookie)
    {
        var goAway = new GoAway
        {
            Code = MlpErrorCode.Redirect,
            Message = $"your zone is served by the gateways of site {home.Name}",
        };
        goAway.Endpoints.AddRange(Endpoints(home, ZoneOf(zoneCookie)));
        if (zoneCookie is not null)
        {
            goAway.ZoneCookie = Google.Protobuf.ByteString.CopyFromUtf8(zoneCookie);
        }

        return goAway;
    }

    /// <summary>The zone a cookie names (<c>{version}.{zone}.{mac}</c>), for the endpoints' <c>zone</c> field.</summary>
    public static string? ZoneOf(string? zoneCookie)
    {
        if (zoneCookie is null)
        {
            return null;
        }

        var first = zoneCookie.IndexOf('.', StringComparison.Ordinal);
        var last = zoneCookie.LastIndexOf('.');
        return first > 0 && last > first + 1 ? zoneCookie[(first + 1)..last] : null;
    }
}
