using System.Collections.Frozen;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Reads a traffic table (YAML; JSON is YAML too, docs/traffic.md) and checks it whole before anything uses it: unknown
/// keys, missing references, shards that do not cover 0–99 exactly once, a down zone without an up standby, bad
/// endpoints or weights. The first problem is a <see cref="TrafficTableException"/> naming its line; nothing partial
/// ever comes out.
/// </summary>
internal static partial class TrafficTableParser
{
    public static TrafficTable Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new TrafficTableException(ex.InnerException?.Message ?? ex.Message, ex.Start.Line);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new TrafficTableException("the table is one mapping (version, sites, zones, shards, ...)", 0);
        }

        Keys(root, "version", "sites", "zones", "shards", "overrides", "down", "standby", "gray", "loadTest", "uplinks");
        var version = Long(Required(root, "version"), "version", min: 1);

        var sites = new Dictionary<string, TrafficSite>(StringComparer.Ordinal);
        foreach (var (name, node) in Map(Required(root, "sites"), "sites"))
        {
            var site = Mapping(node, $"site {name}");
            Keys(site, "city", "gateways", "http2", "link", "endpoints");
            var siteHttp2 = false;
            if (Optional(site, "http2") is { } http2Node && !bool.TryParse(Scalar(http2Node, $"site {name} http2"), out siteHttp2))
            {
                throw new TrafficTableException($"site {name}: http2 is true or false", Line(http2Node));
            }

            var siteLink = false;
            if (Optional(site, "link") is { } linkNode && !bool.TryParse(Scalar(linkNode, $"site {name} link"), out siteLink))
            {
                throw new TrafficTableException($"site {name}: link is true or false", Line(linkNode));
            }

            sites[name] = new TrafficSite(name, Optional(site, "city") is { } city ? Scalar(city, "city") : null,
                Optional(site, "gateways") is { } gateways ? Endpoints(gateways, $"site {name} gateways") : [], Line(node)) { Http2 = siteHttp2, Link = siteLink, ClientEndpoints = Optional(site, "endpoints") is { } clientEndpoints ? ClientEndpoints(clientEndpoints, $"site {name} endpoints") : [] };
        }

        var zones = new Dictionary<string, TrafficZone>(StringComparer.Ordinal);
        foreach (var (name, node) in Map(Required(root, "zones"), "zones"))
        {
            var zone = Mapping(node, $"zone {name}");
            Keys(zone, "site", "services");
            var siteNode = Required(zone, "site");
            if (!sites.TryGetValue(Scalar(siteNode, "site"), out var site))
            {
                throw new TrafficTableException($"zone {name}: no site named {Scalar(siteNode, "site")}", Line(siteNode));
            }

            var services = new Dictionary<string, TrafficService>(StringComparer.Ordinal);
            if (Optional(zone, "services") is { } servicesNode)
            {
                foreach (var (service, serviceNode) in Map(servicesNode, $"zone {name} services"))
                {
                    services[service] = Service(serviceNode, $"zone {name} service {service}");
                }
            }

            zones[name] = new TrafficZone(name, site, services.ToFrozenDictionary(StringComparer.Ordinal), Line(node));
        }

        if (zones.Count == 0)
        {
            throw new TrafficTableException("no zones", Line(Required(root, "zones")));
        }

        var shards = new TrafficZone?[UidShards.Count];
        var shardsNode = Required(root, "shards");
        foreach (var (range, zoneNode) in Map(shardsNode, "shards"))
        {
            var zone = Zone(zones, zoneNode, $"shards {range}");
            var (from, to) = Range(range, zoneNode);
            for (var s = from; s <= to; s++)
            {
                if (shards[s] is { } taken)
                {
                    throw new TrafficTableException($"shard {s} is given twice ({taken.Name} and {zone.Name})", Line(zoneNode));
                }

                shards[s] = zone;
            }
        }

        var missing = Array.FindIndex(shards, z => z is null);
        if (missing >= 0)
        {
            throw new TrafficTableException($"shard {missing} has no zone (shards must cover 0-{UidShards.Count - 1})", Line(shardsNode));
        }

        var overrides = new Dictionary<string, TrafficZone>(StringComparer.Ordinal);
        if (Optional(root, "overrides") is { } overridesNode)
        {
            foreach (var (uid, zoneNode) in Map(overridesNode, "overrides"))
            {
                overrides[uid] = Zone(zones, zoneNode, $"override {uid}");
            }
        }

        MarkDown(root, sites, zones);
        var standby = new Dictionary<TrafficZone, TrafficZone>();
        if (Optional(root, "standby") is { } standbyNode)
        {
            foreach (var (name, zoneNode) in Map(standbyNode, "standby"))
            {
                if (!zones.TryGetValue(name, out var from))
                {
                    throw new TrafficTableException($"standby: no zone named {name}", Line(zoneNode));
                }

                standby[from] = Zone(zones, zoneNode, $"standby of {name}");
            }
        }

        foreach (var zone in zones.Values)
        {
            zone.Serving = Serving(zone, standby);
        }

        foreach (var site in sites.Values)
        {
            site.UpZones = [.. zones.Values.Where(z => ReferenceEquals(z.Site, site) && !z.Down)];
        }

        var gray = new List<GrayRule>();
        if (Optional(root, "gray") is { } grayNode)
        {
            if (grayNode is not YamlSequenceNode rules)
            {
                throw new TrafficTableException("gray is a list of rules", Line(grayNode));
            }

            foreach (var rule in rules)
            {
                gray.Add(Gray(rule, zones));
            }
        }

        string? loadTestGroup = null;
        if (Optional(root, "loadTest") is { } loadTestNode)
        {
            var loadTest = Mapping(loadTestNode, "loadTest");
            Keys(loadTest, "group");
            loadTestGroup = Scalar(Required(loadTest, "group"), "loadTest group");
        }

        var uplinks = Optional(root, "uplinks") is { } uplinksNode ? Uplinks(uplinksNode, zones) : [];
        return new TrafficTable(version, sites.ToFrozenDictionary(StringComparer.Ordinal), zones.ToFrozenDictionary(StringComparer.Ordinal),
            [.. shards.Select(z => z!)], overrides.ToFrozenDictionary(StringComparer.Ordinal), gray, loadTestGroup, uplinks);
    }

    private static void MarkDown(YamlMappingNode root, Dictionary<string, TrafficSite> sites, Dictionary<string, TrafficZone> zones)
    {
        if (Optional(root, "down") is not { } downNode)
        {
            return;
        }

        if (downNode is not YamlSequenceNode entries)
        {
            throw new TrafficTableException("down is a list of zone:NAME, site:NAME or city:NAME", Line(downNode));
        }

        foreach (var entry in entries)
        {
            var text = Scalar(entry, "down");
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            var (kind, name) = colon < 0 ? (string.Empty, text) : (text[..colon], text[(colon + 1)..]);
            var matched = kind switch
            {
                "zone" => zones.Values.Where(z => z.Name == name).ToList(),
                "site" => zones.Values.Where(z => z.Site.Name == name).ToList(),
                "city" => zones.Values.Where(z => z.Site.City == name).ToList(),
                _ => throw new TrafficTableException($"down: {text} is not zone:NAME, site:NAME or city:NAME", Line(entry)),
            };
            var known = kind switch
            {
                "zone" => zones.ContainsKey(name),
                "site" => sites.ContainsKey(name),
                _ => sites.Values.Any(s => s.City == name),
            };
            if (!known)
            {
                throw new TrafficTableException($"down: no {kind} named {name}", Line(entry));
            }

            foreach (var zone in matched)
            {
                zone.Down = true;
            }
        }
    }

    /// <summary>The zone itself when up, else its standby's serving zone; a chain that ends down or loops is refused.</summary>
    private static TrafficZone Serving(TrafficZone zone, Dictionary<TrafficZone, TrafficZone> standby)
    {
        var seen = new HashSet<TrafficZone>();
        var current = zone;
        while (current.Down)
        {
            if (!seen.Add(current) || !standby.TryGetValue(current, out var next))
            {
                throw new TrafficTableException($"zone {zone.Name} is down and no standby that is up serves it (standby chain from it: {string.Join(" -> ", seen.Select(z => z.Name))})", zone.Line);
            }

            current = next;
        }

        return current;
    }

    private static TrafficService Service(YamlNode node, string what)
    {
        var service = Mapping(node, what);
        Keys(service, "blue", "green", "greenWeight", "groups", "timeoutMs", "http2");
        var blue = Endpoints(Required(service, "blue"), what + " blue");
        var green = Optional(service, "green") is { } greenNode ? Endpoints(greenNode, what + " green") : [];
        var weight = Optional(service, "greenWeight") is { } weightNode ? (int)Long(weightNode, what + " greenWeight", 0, 100) : 0;
        if (weight > 0 && green.Length == 0)
        {
            throw new TrafficTableException($"{what}: greenWeight {weight} but no green endpoints", Line(Optional(service, "greenWeight")!));
        }

        var groups = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Optional(service, "groups") is { } groupsNode)
        {
            foreach (var (group, endpoints) in Map(groupsNode, what + " groups"))
            {
                if (group is TrafficService.BlueGroup or TrafficService.GreenGroup)
                {
                    throw new TrafficTableException($"{what}: a group may not be named {group}", Line(endpoints));
                }

                groups[group] = Endpoints(endpoints, $"{what} group {group}");
            }
        }

        var timeout = Optional(service, "timeoutMs") is { } timeoutNode ? TimeSpan.FromMilliseconds(Long(timeoutNode, what + " timeoutMs", 1, 3_600_000)) : (TimeSpan?)null;
        var http2 = false;
        if (Optional(service, "http2") is { } http2Node && !bool.TryParse(Scalar(http2Node, what + " http2"), out http2))
        {
            throw new TrafficTableException($"{what}: http2 is true or false", Line(http2Node));
        }

        return new TrafficService(blue, green, weight, groups.ToFrozenDictionary(StringComparer.Ordinal)) { Timeout = timeout, Http2 = http2 };
    }

    private static GrayRule Gray(YamlNode node, Dictionary<string, TrafficZone> zones)
    {
        var rule = Mapping(node, "gray rule");
        Keys(rule, "name", "group", "uids", "uidPercent", "appVersion", "platform", "deviceIds", "header");
        var name = Scalar(Required(rule, "name"), "gray rule name");
        var groupNode = Required(rule, "group");
        var group = Scalar(groupNode, $"gray rule {name} group");
        if (!zones.Values.Any(z => z.Services.Values.Any(s => s.Groups.ContainsKey(group))))
        {
            throw new TrafficTableException($"gray rule {name}: no zone has a group named {group}", Line(groupNode));
        }

        AppVersionRange? range = null;
        if (Optional(rule, "appVersion") is { } versionNode && !AppVersionRange.TryParse(Scalar(versionNode, "appVersion"), out range))
        {
            throw new TrafficTableException($"gray rule {name}: appVersion {Scalar(versionNode, "appVersion")} is not a range like \">=5.2.0 <6\"", Line(versionNode));
        }

        (string, string)? header = null;
        if (Optional(rule, "header") is { } headerNode)
        {
            var h = Mapping(headerNode, $"gray rule {name} header");
            Keys(h, "name", "value");
            header = (Scalar(Required(h, "name"), "header name").ToLowerInvariant(), Scalar(Required(h, "value"), "header value"));
        }

        var result = new GrayRule
        {
            Name = name,
            Group = group,
            Uids = Optional(rule, "uids") is { } uids ? Strings(uids, "uids").ToFrozenSet(StringComparer.Ordinal) : null,
            UidPercent = Optional(rule, "uidPercent") is { } percent ? (int)Long(percent, "uidPercent", 0, 100) : null,
            AppVersion = range,
            Platform = Optional(rule, "platform") is { } platform ? Scalar(platform, "platform") : null,
            DeviceIds = Optional(rule, "deviceIds") is { } devices ? Strings(devices, "deviceIds").ToFrozenSet(StringComparer.Ordinal) : null,
            Header = header,
        };
        if (result is { Uids: null, UidPercent: null, AppVersion: null, Platform: null, DeviceIds: null, Header: null })
        {
            throw new TrafficTableException($"gray rule {name} has no condition (it would take every request)", Line(node));
        }

        return result;
    }

    private static (int From, int To) Range(string text, YamlNode at)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var fromText = dash < 0 ? text.AsSpan() : text.AsSpan(0, dash);
        var toText = dash < 0 ? text.AsSpan() : text.AsSpan(dash + 1);
        if (!int.TryParse(fromText, NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !int.TryParse(toText, NumberStyles.None, CultureInfo.InvariantCulture, out var to)
            || from > to || to >= UidShards.Count)
        {
            throw new TrafficTableException($"shards: {text} is not a range like 0-49 within 0-{UidShards.Count - 1}", Line(at));
        }

        return (from, to);
    }

    private static TrafficZone Zone(Dictionary<string, TrafficZone> zones, YamlNode node, string what)
    {
        var name = Scalar(node, what);
        return zones.TryGetValue(name, out var zone) ? zone : throw new TrafficTableException($"{what}: no zone named {name}", Line(node));
    }

    private static string[] Endpoints(YamlNode node, string what)
    {
        var endpoints = Strings(node, what);
        foreach (var endpoint in endpoints)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new TrafficTableException($"{what}: {endpoint} is not an http(s) URL", Line(node));
            }
        }

        if (endpoints.Length == 0)
        {
            throw new TrafficTableException($"{what}: no endpoints", Line(node));
        }

        return endpoints;
    }

    /// <summary>A site's long-link endpoints for clients (tcp, tls, ws, wss URLs with a port), for steering.</summary>
    private static Uri[] ClientEndpoints(YamlNode node, string what)
    {
        var endpoints = Strings(node, what);
        var uris = new Uri[endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
        {
            if (!Uri.TryCreate(endpoints[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("tcp" or "tls" or "ws" or "wss") || uri.IsDefaultPort || uri.Port <= 0)
            {
                throw new TrafficTableException($"{what}: {endpoints[i]} is not a tcp://, tls://, ws:// or wss:// URL with a port", Line(node));
            }

            uris[i] = uri;
        }

        return uris;
    }

    private static string[] Strings(YamlNode node, string what) => node is YamlSequenceNode list
        ? [.. list.Select(item => Scalar(item, what))]
        : throw new TrafficTableException($"{what} is a list", Line(node));

    private static long Long(YamlNode node, string what, long min = long.MinValue, long max = long.MaxValue)
    {
        var text = Scalar(node, what);
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new TrafficTableException($"{what}: {text} is not a whole number{(min == long.MinValue ? string.Empty : $" from {min}")}{(max == long.MaxValue ? string.Empty : $" to {max}")}", Line(node));
    }

    private static string Scalar(YamlNode node, string what) => node is YamlScalarNode { Value: { Length: > 0 } value }
        ? value
        : throw new TrafficTableException($"{what} is a non-empty value", Line(node));

    private static YamlMappingNode Mapping(YamlNode node, string what) =>
        node as YamlMappingNode ?? throw new TrafficTableException($"{what} is a mapping", Line(node));

    private static IEnumerable<(string Key, YamlNode Value)> Map(YamlNode node, string what) =>
        Mapping(node, what).Children.Select(pair => (Scalar(pair.Key, what + " key"), pair.Value));

    private static YamlNode Required(YamlMappingNode node, string key) =>
        Optional(node, key) ?? throw new TrafficTableException($"{key} is missing", Line(node));

    private static YamlNode? Optional(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static void Keys(YamlMappingNode node, params string[] allowed)
    {
        foreach (var key in node.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name } || Array.IndexOf(allowed, name) < 0)
            {
                throw new TrafficTableException($"unknown key {(key as YamlScalarNode)?.Value ?? "?"} (expected one of {string.Join(", ", allowed)})", Line(key));
            }
        }
    }

    private static int Line(YamlNode node) => (int)node.Start.Line;
}
