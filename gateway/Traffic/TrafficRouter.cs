using System.Collections.Concurrent;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Hpack;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Routes an MLP call by the table in force (docs/traffic.md): reads the table once, resolves the caller's zone (the uid
/// of the authenticated session; a valid zone cookie skips the lookup) and the endpoint group, then calls a backend of
/// that group in this site, or forwards the call once to the gateways of the zone's site. The answer carries where it
/// went (zone, site, group, reason, gray rule, table version) and, when the caller's cookie was missing or stale, a
/// fresh cookie. A call keeps the table version it started with to the end, so a switch never moves a call in flight.
/// </summary>
internal sealed class TrafficRouter : IDisposable
{
    private static readonly string[] Reasons = ["none", "shard", "override", "failover", "site_least_outstanding", "load_test", "cookie"];

    private readonly TrafficTableStore _store;
    private readonly ZoneCookie _cookie;
    private readonly TrafficForwarder _forwarder;
    private readonly TrafficEndpointHealth _health;
    private readonly TrafficOptions _options;
    private readonly TimeProvider _time;
    private readonly IHttpMessageHandlerFactory _clients;
    private readonly TrafficMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TrafficMlpService> _services = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Uri Base, MlpOperationUris Operations)> _endpoints = new(StringComparer.Ordinal);

    public TrafficRouter(TrafficTableStore store, TrafficKeys keys, TrafficForwarder forwarder, TrafficEndpointHealth health, IHttpMessageHandlerFactory clients, TrafficMetrics metrics, IOptions<TrafficOptions> options, TimeProvider time, ILogger<TrafficRouter> logger)
    {
        _time = time;
        _options = options.Value;
        _store = store;
        _cookie = new ZoneCookie(keys.Cookie);
        _forwarder = forwarder;
        _health = health;
        _clients = clients;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>A table file is configured: calls may be routed by a table.</summary>
    public bool IsEnabled => _store.IsEnabled;

    /// <summary>The reason as the response header, the metrics and the admin API spell it.</summary>
    public static string ReasonName(TrafficReason reason) => Reasons[(int)reason];

    /// <summary>The service that routes <paramref name="name"/> by the table, when the table in force has it in some zone.</summary>
    public bool TryGet(string name, out IMlpService service)
    {
        if (_store.Current is { } current && current.Services.Contains(name))
        {
            // One per service name of some applied table: bounded by the tables, not by what clients send.
            service = _services.GetOrAdd(name, static (_, router) => new TrafficMlpService(router, forwardedFrom: null), this);
            return true;
        }

        service = null!;
        return false;
    }

    /// <summary>
    /// The zone cookie for a long link's WELCOME (docs/protocol.md §5.4): the HELLO's when it is valid for this user and
    /// version and its zone is up, else one for the zone the table gives the user; null without a table or a user.
    /// <paramref name="home"/>: with <c>Traffic:Steer</c>, the client endpoints of the user's site when that is another
    /// one; never when the HELLO brought a cookie this table does not honour (a site on another table version may
    /// steer the other way: the forward serves such a client, no steering back and forth).
    /// </summary>
    public string? CookieForLink(string uid, ReadOnlySpan<byte> helloCookie, out TrafficSite? home)
    {
        home = null;
        if (_store.Current is not { } version || string.IsNullOrEmpty(uid))
        {
            return null;
        }

        var table = version.Table;
        string cookie;
        TrafficZone zone;
        if (helloCookie.Length is > 0 and <= 256 && ValidCookie(helloCookie, uid, table) is { } valid)
        {
            (cookie, zone) = valid;
        }
        else
        {
            zone = table.ZoneOf(uid, out _);
            cookie = _cookie.Issue(table.Version, zone, uid);
            if (helloCookie.Length > 0)
            {
                return cookie;
            }
        }

        if (_options.Steer != TrafficSteer.Off && !ReferenceEquals(zone.Site, version.Site) && zone.Site.ClientEndpoints.Length > 0)
        {
            home = zone.Site;
        }

        return cookie;
    }

    /// <summary>A long-link client told where its home site is (<c>hint</c>: in WELCOME; <c>redirect</c>: by GOAWAY).</summary>
    public void CountSteered(string how) => _metrics.Steered.Add(1, TrafficMetrics.Tag("how", how));

    /// <summary>What <c>Traffic:Steer</c> does for a link whose user lives in another site.</summary>
    public TrafficSteer Steer => _options.Steer;

    private (string Cookie, TrafficZone Zone)? ValidCookie(ReadOnlySpan<byte> helloCookie, string uid, TrafficTable table)
    {
        Span<char> text = stackalloc char[helloCookie.Length];
        return System.Text.Encoding.UTF8.TryGetChars(helloCookie, text, out var length) && _cookie.TryRead(text[..length], uid, table, out var named) && !named.Down
            ? (text[..length].ToString(), named)
            : null;
    }

    /// <summary>Routes <paramref name="request"/>; <paramref name="forwardedFrom"/> is the site of the gateway that forwarded it here (it is never forwarded again).</summary>
    // The state machine of a call that waits is taken from a pool, not allocated per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, string? forwardedFrom, CancellationToken cancellationToken)
    {
        if (_store.Current is not { } version)
        {
            return MlpServiceResponse.Empty(503, "no traffic table");
        }

        var table = version.Table;
        var uid = string.IsNullOrEmpty(request.UserId) ? null : request.UserId;
        TrafficZone? cookieZone = null;
        if (uid is not null && (TrafficHeaders.Find(request.Headers, TrafficHeaders.ZoneCookie) ?? request.ZoneCookie) is { } cookie && _cookie.TryRead(cookie, uid, table, request.ZoneCookieCache, out var named))
        {
            cookieZone = named;
        }

        var loadTest = TrafficHeaders.Find(request.Headers, TrafficHeaders.LoadTest) is "1" or "true";
        var query = new TrafficQuery(request.Service, uid, request.DeviceId, request.AppVersion, request.Platform, loadTest, new TrafficHeaderList(request.Headers));
        var decision = table.Resolve(query, version.Site, cookieZone);
        if (decision.Zone is not { } zone)
        {
            return MlpServiceResponse.Empty(503, $"no zone of site {version.Site.Name} is up");
        }

        // A cookie for the caller when its own was missing or stale (an older version, a zone gone down, not this user's).
        var freshCookie = uid is not null && decision.Reason != TrafficReason.Cookie;
        if (!ReferenceEquals(zone.Site, version.Site))
        {
            if (forwardedFrom is not null)
            {
                // The forwarding gateway's table sent it here and ours sends it on: a second hop could loop.
                TrafficLog.ForwardRefused(_logger, request.Service, forwardedFrom, $"zone {zone.Name} is in site {zone.Site.Name}, and a forwarded call is not forwarded again");
                _metrics.ForwardsRefused.Add(1, TrafficMetrics.Tag("reason", "loop"));
                return WithMetadata(MlpServiceResponse.Empty(508, $"zone {zone.Name} is in site {zone.Site.Name}; a forwarded call is not forwarded again"), table, zone, decision, null, freshCookie ? uid : null);
            }

            var forwarded = await _forwarder.ForwardAsync(request, version.Site.Name, zone.Site, cancellationToken).ConfigureAwait(false);
            // Forwarded: the other site's gateway routed it and said where (its own metadata and cookie); that answer is
            // passed on as it is, and nothing of this gateway's routing metadata is built for it.
            return forwarded.Forwarded ? forwarded.Response : WithMetadata(forwarded.Response, table, zone, decision, null, freshCookie ? uid : null);
        }

        if (decision.Endpoints is not { Length: > 0 } endpoints)
        {
            return WithMetadata(MlpServiceResponse.Empty(404, $"zone {zone.Name} has no service '{request.Service}'"), table, zone, decision, null, freshCookie ? uid : null);
        }

        var group = decision.Group!;
        _metrics.Routed.Add(1, TrafficMetrics.Tag("reason", ReasonName(decision.Reason)),
            TrafficMetrics.Tag("group", decision.Reason == TrafficReason.LoadTest ? "load_test" : decision.GrayRule is not null ? "gray" : group));
        var endpoint = _health.Pick(endpoints);
        var service = zone.Services[request.Service];
        var call = request with { Headers = ForBackend(request.Headers, zone.Name, group, loadTest) };
        using var deadline = service.Timeout is { } timeout && timeout < request.Timeout ? new CancellationTokenSource(timeout, _time) : null;
        using var linked = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        if (linked is not null)
        {
            // The zone's own, shorter deadline for this service (timeoutMs): the backend call ends at it, answered 504.
            cancellationToken = linked.Token;
        }

        MlpServiceResponse response;
        // In flight to the zone until answered: what the choice among equal zones weighs.
        zone.Enter();
        try
        {
            response = await MlpHttpBackendService.SendAsync(_clients, OperationUri(endpoint, request.Operation), service.Http2, request.Service, call, request.ConnectionLogger ?? _logger, cancellationToken).ConfigureAwait(false);
            // A 5xx, the 502 of an unreachable endpoint and the 504 of a call cut short by its deadline count against it.
            _health.RecordCall(endpoint, response.Status);
            for (var retry = 0; retry < _options.Retries && request.Idempotent && response.Status is 502 or 503 && !cancellationToken.IsCancellationRequested; retry++)
            {
                // Idempotent only: a call that may have reached the backend is tried again only when that is harmless.
                if (_health.PickOther(endpoints, endpoint) is not { } other)
                {
                    break;
                }

                endpoint = other;
                _metrics.Retries.Add(1);
                response = await MlpHttpBackendService.SendAsync(_clients, OperationUri(endpoint, request.Operation), service.Http2, request.Service, call, request.ConnectionLogger ?? _logger, cancellationToken).ConfigureAwait(false);
                _health.RecordCall(endpoint, response.Status);
            }
        }
        finally
        {
            zone.Exit();
        }

        return WithMetadata(response, table, zone, decision, group, freshCookie ? uid : null);
    }

    /// <summary>The client's headers without those the gateway consumes, plus the zone, group and load-test mark: one array of the exact size.</summary>
    private static HeaderField[] ForBackend(IReadOnlyList<HeaderField> headers, string zone, string group, bool loadTest)
    {
        var kept = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            kept += TrafficHeaders.IsReserved(headers[i].Name) ? 0 : 1;
        }

        var list = new HeaderField[kept + (loadTest ? 3 : 2)];
        var at = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            if (!TrafficHeaders.IsReserved(headers[i].Name))
            {
                list[at++] = headers[i];
            }
        }

        list[at++] = new(TrafficHeaders.BackendZone, zone);
        list[at++] = new(TrafficHeaders.BackendGroup, group);
        if (loadTest)
        {
            list[at] = new(TrafficHeaders.BackendLoadTest, "1");
        }

        return list;
    }

    /// <summary>
    /// The response with where the call went after its own headers, in one array of the exact size: zone, site, reason,
    /// table version, a fresh cookie for <paramref name="cookieFor"/> (when the caller's was missing or stale), and for a
    /// call served here its group and gray rule.
    /// </summary>
    private MlpServiceResponse WithMetadata(MlpServiceResponse response, TrafficTable table, TrafficZone zone, TrafficDecision decision, string? group, string? cookieFor)
    {
        var grayRule = group is null ? null : decision.GrayRule;
        var count = response.Headers.Count + 4 + (cookieFor is null ? 0 : 1) + (group is null ? 0 : 1) + (grayRule is null ? 0 : 1);
        var headers = new HeaderField[count];
        var at = 0;
        for (; at < response.Headers.Count; at++)
        {
            headers[at] = response.Headers[at];
        }

        headers[at++] = new(TrafficHeaders.Zone, zone.Name);
        headers[at++] = new(TrafficHeaders.Site, zone.Site.Name);
        headers[at++] = new(TrafficHeaders.Reason, ReasonName(decision.Reason));
        headers[at++] = new(TrafficHeaders.TableVersion, table.VersionText);
        if (cookieFor is not null)
        {
            headers[at++] = new(TrafficHeaders.ZoneCookie, _cookie.Issue(table.Version, zone, cookieFor));
        }

        if (group is not null)
        {
            headers[at++] = new(TrafficHeaders.Group, group);
        }

        if (grayRule is not null)
        {
            headers[at] = new(TrafficHeaders.GrayRule, grayRule);
        }

        return response with { Headers = headers };
    }

    public void Dispose() => _cookie.Dispose();

    /// <summary>The request URI of <paramref name="operation"/> at <paramref name="endpoint"/>: endpoints come from the tables, each keeps its operations' URIs.</summary>
    private Uri OperationUri(string endpoint, string operation)
    {
        var (baseUri, operations) = _endpoints.GetOrAdd(endpoint, static e => (new Uri(e.EndsWith('/') ? e : e + "/", UriKind.Absolute), new MlpOperationUris()));
        return operations.Get(baseUri, operation);
    }
}

/// <summary>An MLP service whose calls the traffic table routes.</summary>
internal sealed class TrafficMlpService(TrafficRouter router, string? forwardedFrom) : IMlpService
{
    /// <summary>The site of the gateway that forwarded the calls here; null: calls of this gateway's own clients.</summary>
    public string? ForwardedFrom { get; } = forwardedFrom;

    public ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken) =>
        router.InvokeAsync(request, ForwardedFrom, cancellationToken);
}
