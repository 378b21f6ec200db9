using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Protocol.Mlp.Envelopes;
using EndpointTransport = AccessLayer.Protocol.Mlp.Envelopes.Transport;

namespace AccessLayer.Client.Strategies;

/// <summary>One place a connect may go: an endpoint, and one address of its host name when it was resolved.</summary>
internal sealed record ConnectCandidate(Uri Endpoint, IPAddress? Address)
{
    public override string ToString() => Address is null ? Endpoint.ToString() : $"{Endpoint} ({Address})";
}

/// <summary>
/// The order a connect tries places in (docs/sdk.md "Connection establishment"): the one that won last
/// time first, then the endpoints of the last GOAWAY (REDIRECT, SERVER_DRAINING) in their order, then the
/// configured ones; each endpoint expanded to every address its host name resolves to, IPv6 and IPv4
/// interleaved (RFC 8305 §4). Thread-safe.
/// </summary>
internal sealed partial class EndpointList(MlpClientOptions options)
{
    private readonly Lock _lock = new();
    private ConnectCandidate? _preferred;
    private IReadOnlyList<Uri> _redirect = [];

    public ConnectCandidate? Preferred
    {
        get
        {
            lock (_lock)
                return _preferred;
        }
    }

    /// <summary>The endpoints a GOAWAY named; the next connect tries them before the configured ones.</summary>
    public IReadOnlyList<Uri> Redirect
    {
        get
        {
            lock (_lock)
                return _redirect;
        }
    }

    public void OnGoAway(GoAway goAway)
    {
        if (goAway.Endpoints.Count == 0)
            return;
        var uris = goAway.Endpoints.Select(ToUri).OfType<Uri>().ToArray();
        lock (_lock)
        {
            _redirect = uris;
            // Told to go elsewhere: last time's winner is where we are being sent away from.
            _preferred = null;
        }
    }

    public void OnConnected(ConnectCandidate winner)
    {
        lock (_lock)
            _preferred = winner;
    }

    /// <summary>The endpoints in the order to try, without repeats.</summary>
    public IReadOnlyList<Uri> Endpoints()
    {
        var list = new List<Uri>();
        lock (_lock)
        {
            list.AddRange(_redirect);
            list.AddRange(_home);
        }

        if (options.Endpoint is not null)
            list.Add(options.Endpoint);
        list.AddRange(options.Endpoints);
        return list.Distinct().ToList();
    }

    /// <summary>
    /// Every candidate, resolved when the transport factory can use addresses (an unresolvable name is kept whole,
    /// so its failure is reported by the connect), with last time's winner first.
    /// </summary>
    public async Task<IReadOnlyList<ConnectCandidate>> CandidatesAsync(bool resolve, Func<string, CancellationToken, Task<IPAddress[]>> resolver, CancellationToken cancellationToken)
    {
        var candidates = new List<ConnectCandidate>();
        foreach (var endpoint in Endpoints())
        {
            if (!resolve || endpoint.Scheme is not ("tcp" or "tls") || IPAddress.TryParse(endpoint.IdnHost, out _))
            {
                candidates.Add(new ConnectCandidate(endpoint, null));
                continue;
            }

            IPAddress[] addresses;
            try
            {
                addresses = await resolver(endpoint.IdnHost, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                addresses = [];
            }

            if (addresses.Length == 0)
                candidates.Add(new ConnectCandidate(endpoint, null));
            else
                candidates.AddRange(Interleave(addresses).Select(address => new ConnectCandidate(endpoint, address)));
        }

        var preferred = Preferred;
        if (preferred is not null && candidates.Remove(preferred))
            candidates.Insert(0, preferred);
        return candidates.Distinct().ToList();
    }

    /// <summary>IPv6 first, then the families alternating (RFC 8305 §4), each family in the resolver's order.</summary>
    internal static IEnumerable<IPAddress> Interleave(IReadOnlyList<IPAddress> addresses)
    {
        var v6 = new Queue<IPAddress>(addresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6));
        var v4 = new Queue<IPAddress>(addresses.Where(a => a.AddressFamily != AddressFamily.InterNetworkV6));
        while (v6.Count > 0 || v4.Count > 0)
        {
            if (v6.TryDequeue(out var six))
                yield return six;
            if (v4.TryDequeue(out var four))
                yield return four;
        }
    }

    /// <summary>A GOAWAY endpoint as a URI for the transports; null for transports the long link cannot use (HTTP).</summary>
    internal static Uri? ToUri(Endpoint endpoint)
    {
        if (string.IsNullOrEmpty(endpoint.Host) || endpoint.Port is 0 or > 65535)
            return null;
        var host = endpoint.Host.Contains(':', StringComparison.Ordinal) && !endpoint.Host.StartsWith('[') ? "[" + endpoint.Host + "]" : endpoint.Host;
        var port = endpoint.Port.ToString(CultureInfo.InvariantCulture);
        var path = string.IsNullOrEmpty(endpoint.Path) ? "/mlp" : endpoint.Path;
        return endpoint.Transport switch
        {
            EndpointTransport.Tcp or EndpointTransport.Unspecified => new Uri($"tcp://{host}:{port}"),
            EndpointTransport.Tls => new Uri($"tls://{host}:{port}"),
            EndpointTransport.Websocket => new Uri($"ws://{host}:{port}{path}"),
            EndpointTransport.WebsocketTls => new Uri($"wss://{host}:{port}{path}"),
            _ => null,
        };
    }
}
