using AccessLayer.Gateway.Management;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Nodes;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// The dashboard on the management surface: its static files at <c>/dashboard/</c> (no token: they hold no data; the
/// page asks for the token and sends it as a bearer header on every API call) and the API it reads besides the admin
/// and fleet API: <c>GET /api/v1/stats</c> (a node's samples; <c>/api/v1/stats/stream</c> as server-sent events, <see cref="StatsStream"/>), <c>/api/v1/fleet/nodes/{node}/drain</c> (any node's
/// drain), <c>GET /api/v1/retained</c> (retained topics by prefix, a page at a time) and <c>GET /api/v1/devices</c>
/// (MLP devices connected here, <see cref="MlpDeviceListing"/>).
/// </summary>
internal static class DashboardEndpoints
{
    public const int MaxRetainedPage = 500;

    /// <summary>Scripts and styles from files only (no inline code), data from this origin only, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void MapDashboard(this WebApplication app, IEndpointRouteBuilder managementApi)
    {
        var files = app.MapGroup("/dashboard").OnSurface(HttpSurface.Management).WithoutManagementToken();
        // Routing does not tell "/dashboard" from "/dashboard/"; the page's relative links need the slash.
        files.MapGet("/", (HttpContext context, DashboardAssets assets) => context.Request.Path.Value?.EndsWith('/') == true
            ? Serve(context, assets, "index.html")
            : Results.Redirect("/dashboard/"));
        files.MapGet("/{file}", (string file, HttpContext context, DashboardAssets assets) => Serve(context, assets, file));

        managementApi.MapGet("/stats", GetStatsAsync);
        managementApi.MapGet("/stats/stream", StatsStream.RunAsync);
        managementApi.MapGet("/fleet/nodes/{node}/drain", (string node, IFleet fleet, CancellationToken ct) => DrainAsync(node, NodeDrainCommand.Status, fleet, ct));
        managementApi.MapPost("/fleet/nodes/{node}/drain", (string node, IFleet fleet, CancellationToken ct) => DrainAsync(node, NodeDrainCommand.Start, fleet, ct));
        managementApi.MapDelete("/fleet/nodes/{node}/drain", (string node, IFleet fleet, CancellationToken ct) => DrainAsync(node, NodeDrainCommand.Cancel, fleet, ct));
        managementApi.MapGet("/retained", ListRetainedAsync);
        managementApi.MapGet("/devices", MlpDeviceListing.List);
    }

    private static IResult Serve(HttpContext context, DashboardAssets assets, string file)
    {
        if (!assets.TryGet(file, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    /// <summary><c>?node=</c> (default: this node) <c>&amp;since=</c> (Unix milliseconds; default: all kept).</summary>
    private static async Task<IResult> GetStatsAsync(IFleet fleet, string? node, long? since, CancellationToken cancellationToken)
    {
        var target = string.IsNullOrEmpty(node) ? fleet.NodeId : node;
        var after = since is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253_402_300_799_999)) : DateTimeOffset.MinValue;
        var stats = await fleet.GetNodeStatsAsync(target, after, cancellationToken).ConfigureAwait(false);
        if (stats is null)
        {
            return NotFound($"No reachable node '{target}'.");
        }

        var points = stats.Samples.Select(ToPoint).ToList();
        return Results.Json(
            new StatsResponse(stats.NodeId, stats.NodeId == fleet.NodeId, stats.Interval.TotalSeconds, points, stats.EvictionsByReason, stats.DropsByReason, stats.BackPressurePauses),
            DashboardJsonContext.Default.StatsResponse);
    }

    internal static StatsPoint ToPoint(NodeStatsSample s) => new(
        s.At.ToUnixTimeMilliseconds(), s.MqttTcp, s.MqttTls, s.MqttWebSocket, s.Mlp, s.ConnectsPerSecond, s.MessagesInPerSecond, s.MessagesOutPerSecond,
        s.DropsPerSecond, s.BackPressurePausesPerSecond, s.EvictionsPerSecond, s.WorkingSetBytes, s.GcHeapBytes);

    private static async Task<IResult> DrainAsync(string node, NodeDrainCommand command, IFleet fleet, CancellationToken cancellationToken)
    {
        var status = await fleet.DrainNodeAsync(node, command, cancellationToken).ConfigureAwait(false);
        if (status is null)
        {
            return NotFound($"No reachable node '{node}'.");
        }

        var info = new NodeDrainInfo(node, status.State, status.StartedAt, status.Moved, status.Remaining);
        var code = !status.Accepted ? StatusCodes.Status409Conflict : command == NodeDrainCommand.Start ? StatusCodes.Status202Accepted : StatusCodes.Status200OK;
        return Results.Json(info, DashboardJsonContext.Default.NodeDrainInfo, statusCode: code);
    }

    /// <summary>
    /// <c>?prefix=</c> (topics starting with it) <c>&amp;after=</c> (cursor: the last topic of the previous page) <c>&amp;limit=</c> (1–500, default 100).
    /// Only the subtree under the prefix's last whole level is read (<c>a/b/c</c> reads <c>a/b/#</c>), then sorted by topic.
    /// </summary>
    private static async Task<IResult> ListRetainedAsync(MqttBroker broker, string? prefix, string? after, int? limit, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(limit ?? 100, 1, MaxRetainedPage);
        prefix ??= string.Empty;
        if (prefix.Contains('+', StringComparison.Ordinal) || prefix.Contains('#', StringComparison.Ordinal))
        {
            return Results.Json(new DashboardError("The prefix is a topic prefix, not a filter: no '+' or '#'."), DashboardJsonContext.Default.DashboardError, statusCode: StatusCodes.Status400BadRequest);
        }

        var lastLevel = prefix.LastIndexOf('/');
        var filter = lastLevel < 0 ? "#" : prefix[..(lastLevel + 1)] + "#";
        var matched = new List<AccessLayer.Sessions.Retained.RetainedMessage>();
        foreach (var retained in await broker.Retained.MatchAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            if (retained.Message.Topic.StartsWith(prefix, StringComparison.Ordinal))
            {
                matched.Add(retained);
            }
        }

        // '#' skips '$' topics; a prefix naming one ('$SYS/...') reads them through its own filter.
        matched.Sort(static (a, b) => string.CompareOrdinal(a.Message.Topic, b.Message.Topic));
        var page = matched.Where(r => after is null || string.CompareOrdinal(r.Message.Topic, after) > 0).Take(size + 1).ToList();
        var items = page.Take(size).Select(ToTopic).ToList();
        return Results.Json(new RetainedPage(matched.Count, items, page.Count > size ? items[^1].Topic : null), DashboardJsonContext.Default.RetainedPage);
    }

    private static RetainedTopic ToTopic(AccessLayer.Sessions.Retained.RetainedMessage retained)
    {
        var message = retained.Message;
        var payload = message.Payload.Span;
        string? preview = null;
        if (payload.Length <= 256 && System.Text.Unicode.Utf8.IsValid(payload))
        {
            preview = System.Text.Encoding.UTF8.GetString(payload);
        }

        return new RetainedTopic(message.Topic, (int)message.QualityOfService, payload.Length, preview, retained.StoredAt, retained.RemainingExpiryInterval);
    }

    private static IResult NotFound(string error) =>
        Results.Json(new DashboardError(error), DashboardJsonContext.Default.DashboardError, statusCode: StatusCodes.Status404NotFound);
}
