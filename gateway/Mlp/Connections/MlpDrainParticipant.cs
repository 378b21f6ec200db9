using System.Globalization;
using AccessLayer.Gateway.Governance;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Microsoft.Extensions.Options;
using Endpoint = AccessLayer.Protocol.Mlp.Envelopes.Endpoint;
using EndpointTransport = AccessLayer.Protocol.Mlp.Envelopes.Transport;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// The MLP side of a drain: each connection gets GOAWAY SERVER_DRAINING with the endpoints to
/// use instead and a retry-after, then closes once what it was owed is written. Push sessions
/// stay in the store, so unacknowledged pushes are re-delivered wherever the device reconnects.
/// </summary>
internal sealed class MlpDrainParticipant(MlpConnectionRegistry connections, IOptions<MlpOptions> options, ILogger<MlpDrainParticipant> logger) : IDrainParticipant
{
    public string Protocol => "mlp";

    public int ConnectionCount => connections.All.Count();

    public bool HasClientsToMove => connections.All.Any(c => !c.IsClosingNow);

    public int MoveClients(int maxCount, DrainContext context)
    {
        var moved = 0;
        foreach (var connection in connections.All)
        {
            if (moved >= maxCount)
            {
                break;
            }

            if (connection.Close(CreateGoAway(options.Value, context.MlpEndpoints), "drain"))
            {
                moved++;
                MlpLog.ConnectionDrained(logger, connection.DeviceId ?? "(not welcomed)");
            }
        }

        return moved;
    }

    /// <summary>The GOAWAY SERVER_DRAINING a drained client gets, and a client refused at accept while the node drains.</summary>
    internal static GoAway CreateGoAway(MlpOptions current, IReadOnlyList<string>? fleetEndpoints = null)
    {
        var goAway = new GoAway
        {
            Code = MlpErrorCode.ServerDraining,
            Message = "The node is draining; reconnect elsewhere.",
            RetryAfterMs = (uint)current.DrainRetryAfterMs,
        };
        // Configured endpoints win; otherwise, in a fleet, the live peers.
        foreach (var endpoint in current.DrainEndpoints.Count > 0 ? current.DrainEndpoints : fleetEndpoints ?? [])
        {
            goAway.Endpoints.Add(ParseEndpoint(endpoint));
        }

        return goAway;
    }

    /// <summary><c>host:port</c> is TCP; a URI names its transport by scheme (tcp, tls, ws, wss).</summary>
    internal static Endpoint ParseEndpoint(string value)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "tcp" or "tls" or "ws" or "wss")
        {
            return EndpointOf(uri);
        }

        var colon = value.LastIndexOf(':');
        return new Endpoint
        {
            Host = colon > 0 ? value[..colon] : value,
            Port = colon > 0 ? uint.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture) : 7000,
            Transport = EndpointTransport.Tcp,
        };
    }

    /// <summary>A <c>tcp://</c>, <c>tls://</c>, <c>ws://</c> or <c>wss://</c> URI as the protocol names a place to connect to.</summary>
    internal static Endpoint EndpointOf(Uri uri) => new()
    {
        Host = uri.Host,
        Port = (uint)uri.Port,
        Transport = uri.Scheme switch
        {
            "tls" => EndpointTransport.Tls,
            "ws" => EndpointTransport.Websocket,
            "wss" => EndpointTransport.WebsocketTls,
            _ => EndpointTransport.Tcp,
        },
        Path = uri.Scheme.StartsWith("ws", StringComparison.Ordinal) ? uri.AbsolutePath : string.Empty,
    };
}
