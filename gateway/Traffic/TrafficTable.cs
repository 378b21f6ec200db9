using System.Collections.Frozen;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// One version of the traffic table, compiled and immutable (docs/traffic.md): sites, zones with their backend groups per
/// service, uid shards and overrides, what is down and where its users go instead, gray rules, the load-test group.
/// A node swaps the whole table at once, so a request sees one version from lookup to forward.
/// </summary>
internal sealed class TrafficTable
{
    private readonly TrafficZone[] _shards;
    private readonly FrozenDictionary<string, TrafficZone> _overrides;

    public TrafficTable(
        long version,
        FrozenDictionary<string, TrafficSite> sites,
        FrozenDictionary<string, TrafficZone> zones,
        TrafficZone[] shards,
        FrozenDictionary<string, TrafficZone> overrides,
        IReadOnlyList<GrayRule> gray,
        string? loadTestGroup,
        IReadOnlyList<TrafficUplinkRule>? uplinks = null)
    {
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Sites = sites;
        Zones = zones;
        _shards = shards;
        _overrides = overrides;
        Gray = gray;
        LoadTestGroup = loadTestGroup;
        Uplinks = uplinks ?? [];
    }

    public long Version { get; }

    /// <summary>The version as the <c>mlp-table-version</c> header spells it, made once per table rather than per call.</summary>
    public string VersionText { get; }

    public FrozenDictionary<string, TrafficSite> Sites { get; }

    public FrozenDictionary<string, TrafficZone> Zones { get; }

    public IReadOnlyList<GrayRule> Gray { get; }

    /// <summary>The endpoint group marked load-test traffic goes to (in the zone the user belongs to), or null: marked traffic is routed as any other.</summary>
    public string? LoadTestGroup { get; }

    /// <summary>The MQTT uplink rules, first match wins (docs/traffic.md, "MQTT uplinks").</summary>
    public IReadOnlyList<TrafficUplinkRule> Uplinks { get; }

    /// <summary>The first uplink rule whose topic filter <paramref name="topic"/> matches, or null.</summary>
    public TrafficUplinkRule? UplinkFor(string topic)
    {
        for (var i = 0; i < Uplinks.Count; i++)
        {
            if (Uplinks[i].Matches(topic))
            {
                return Uplinks[i];
            }
        }

        return null;
    }

    /// <summary>The zones of the shards in order (before failover); for the dry run and the admin API.</summary>
    public IReadOnlyList<TrafficZone> Shards => _shards;

    public IReadOnlyDictionary<string, TrafficZone> Overrides => _overrides;

    /// <summary>The zone a uid belongs to in this version, after failover, and why.</summary>
    public TrafficZone ZoneOf(string uid, out TrafficReason reason)
    {
        if (_overrides.TryGetValue(uid, out var zone))
        {
            reason = TrafficReason.Override;
        }
        else
        {
            zone = _shards[UidShards.Of(uid)];
            reason = TrafficReason.Shard;
        }

        if (!ReferenceEquals(zone.Serving, zone))
        {
            reason = TrafficReason.Failover;
        }

        return zone.Serving;
    }

    /// <summary>
    /// Where a request goes: the user's zone (after failover; non-user traffic: of two up zones of <paramref name="site"/>
    /// drawn at random, the one with fewer calls in flight), the site that serves it, and the endpoint group for <see cref="TrafficQuery.Service"/> (load test, then
    /// the first matching gray rule whose group the zone has, then blue or green by the service's weight). A zone read
    /// from a valid zone cookie (<paramref name="cookieZone"/>) is used as it is unless it went down. Allocates nothing.
    /// </summary>
    public TrafficDecision Resolve(in TrafficQuery query, TrafficSite? site, TrafficZone? cookieZone = null)
    {
        TrafficZone zone;
        TrafficReason reason;
        if (cookieZone is { Down: false } known && query.Uid is not null)
        {
            // A valid cookie of this version (ZoneCookie.TryRead): the zone this table gave the user, no lookup.
            zone = known;
            reason = TrafficReason.Cookie;
        }
        else if (query.Uid is { } uid)
        {
            zone = ZoneOf(uid, out reason);
        }
        else if (site is not null && site.UpZones.Length > 0)
        {
            zone = LeastOutstandingOfTwo(site.UpZones);
            reason = TrafficReason.SiteLeastOutstanding;
        }
        else
        {
            return default;
        }

        if (!zone.Services.TryGetValue(query.Service, out var service))
        {
            return new TrafficDecision(zone, null, null, reason, null);
        }

        if (query.LoadTest && LoadTestGroup is { } shadow && service.Groups.TryGetValue(shadow, out var shadowEndpoints))
        {
            return new TrafficDecision(zone, shadow, shadowEndpoints, TrafficReason.LoadTest, null);
        }

        for (var i = 0; i < Gray.Count; i++)
        {
            var rule = Gray[i];
            if (service.Groups.TryGetValue(rule.Group, out var grayEndpoints) && rule.Matches(query))
            {
                return new TrafficDecision(zone, rule.Group, grayEndpoints, reason, rule.Name);
            }
        }

        var green = service.GreenWeight > 0 && service.Green.Length > 0
            && (service.GreenWeight >= 100 || (query.Uid is { } u ? ColourBucket(u) : Random.Shared.Next(100)) < service.GreenWeight);
        return green
            ? new TrafficDecision(zone, TrafficService.GreenGroup, service.Green, reason, null)
            : new TrafficDecision(zone, TrafficService.BlueGroup, service.Blue, reason, null);
    }

    /// <summary>Of two up zones drawn at random, the one with fewer calls in flight (the power of two choices: no scan, no herd on one zone).</summary>
    private static TrafficZone LeastOutstandingOfTwo(TrafficZone[] up)
    {
        if (up.Length == 1)
        {
            return up[0];
        }

        var a = Random.Shared.Next(up.Length);
        var b = Random.Shared.Next(up.Length - 1);
        if (b >= a)
        {
            b++;
        }

        return up[b].Outstanding < up[a].Outstanding ? up[b] : up[a];
    }

    /// <summary>A second, independent bucket of the uid (0–99): the same user stays on one colour while the weight stays.</summary>
    private static int ColourBucket(string uid) => UidShards.Of(uid, seed: 1);
}

/// <summary>Why a request went to its zone.</summary>
internal enum TrafficReason
{
    None,
    Shard,
    Override,
    Failover,
    SiteLeastOutstanding,
    LoadTest,
    Cookie,
}

/// <summary>A site: its city, its zones, and the gateways of that site a request for one of its zones is forwarded to.</summary>
internal sealed class TrafficSite(string name, string? city, string[] gateways, int line)
{
    public string Name { get; } = name;

    public string? City { get; } = city;

    public string[] Gateways { get; } = gateways;

    public int Line { get; } = line;

    /// <summary>The site's gateways are called over HTTP/2 with prior knowledge (their <c>Traffic:ForwardPort</c>).</summary>
    public bool Http2 { get; init; }

    /// <summary>The site's gateways are called over site links (<see cref="TrafficLink"/>, their <c>Traffic:ForwardPort</c>): one kept connection per gateway, calls multiplexed as frames.</summary>
    public bool Link { get; init; }

    /// <summary>The site's long-link endpoints for clients (<c>endpoints</c>): where steering sends the users of its zones.</summary>
    public Uri[] ClientEndpoints { get; init; } = [];

    /// <summary>The site's zones that are up, for traffic that belongs to no user.</summary>
    public TrafficZone[] UpZones { get; internal set; } = [];
}

/// <summary>A zone: a unit of backends and data in one site.</summary>
internal sealed class TrafficZone(string name, TrafficSite site, FrozenDictionary<string, TrafficService> services, int line)
{
    public string Name { get; } = name;

    public TrafficSite Site { get; } = site;

    public FrozenDictionary<string, TrafficService> Services { get; } = services;

    public int Line { get; } = line;

    /// <summary>Down (itself, its site or its city), as the table says.</summary>
    public bool Down { get; internal set; }

    /// <summary>The zone that serves this zone's users: itself when up, else its standby (followed until one is up).</summary>
    public TrafficZone Serving { get; internal set; } = null!;

    private int _outstanding;

    /// <summary>Calls this node has in flight to the zone's backends (under this table version), for the choice among equal zones.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    public void Enter() => Interlocked.Increment(ref _outstanding);

    public void Exit() => Interlocked.Decrement(ref _outstanding);
}

/// <summary>A service's endpoint groups in one zone: blue and green (with green's share of users, 0–100) and named groups (gray, shadow).</summary>
internal sealed class TrafficService(string[] blue, string[] green, int greenWeight, FrozenDictionary<string, string[]> groups)
{
    public const string BlueGroup = "blue";
    public const string GreenGroup = "green";

    public string[] Blue { get; } = blue;

    public string[] Green { get; } = green;

    public int GreenWeight { get; } = greenWeight;

    public FrozenDictionary<string, string[]> Groups { get; } = groups;

    /// <summary>The deadline of a call to this service in this zone when shorter than the call's own (<c>timeoutMs</c>); null: the call's.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The endpoints speak h2c (HTTP/2 with prior knowledge), as <c>Mlp:Routes:*:Http2</c>.</summary>
    public bool Http2 { get; init; }
}

/// <summary>What a request carries for routing. The uid comes from the authenticated session, never from an unauthenticated header.</summary>
internal readonly record struct TrafficQuery(string Service, string? Uid, string? DeviceId = null, string? AppVersion = null, string? Platform = null, bool LoadTest = false, ITrafficHeaders? Headers = null);

/// <summary>Request headers a gray rule may match.</summary>
internal interface ITrafficHeaders
{
    bool TryGet(string name, out string? value);
}

/// <summary>The answer: zone (null: no route), endpoint group and its endpoints (null: the zone has no such service), why, and the gray rule that matched.</summary>
internal readonly record struct TrafficDecision(TrafficZone? Zone, string? Group, string[]? Endpoints, TrafficReason Reason, string? GrayRule);
