using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The operator API of the traffic table under <c>/api/v1/traffic</c> (management surface, behind its bearer token):
/// read the table in force, validate a candidate (the dry run: what it would move), apply one, roll back, and explain
/// where a call or an MQTT uplink would go.
/// </summary>
internal static class TrafficEndpoints
{
    /// <summary>Largest table text accepted over the API.</summary>
    public const int MaxTableBytes = 4 * 1024 * 1024;

    public static void MapTrafficApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/traffic/table", Read);
        api.MapPost("/traffic/table/validate", ValidateAsync);
        api.MapPut("/traffic/table", ApplyAsync);
        api.MapPost("/traffic/table/rollback", Rollback);
        api.MapGet("/traffic/route", Explain);
    }

    /// <summary>
    /// Where a call would go now, as the router decides it (no call is made): for an operator asking why a user lands where they do.
    /// With <paramref name="topic"/>: where an MQTT PUBLISH of that topic would go, by the uplink rule that takes it
    /// (the rule and its batching in <c>uplink</c>; <paramref name="deviceId"/> is the client id, and platform and app
    /// version are not asked, as they never match an MQTT publisher).
    /// </summary>
    private static IResult Explain(TrafficTableStore store, TrafficEndpointHealth health, IOptions<TrafficOptions> options, string? service, string? topic, string? uid, string? deviceId, string? platform, string? appVersion, bool? loadTest)
    {
        if (store.Current is not { } current)
        {
            return NotConfigured();
        }

        TrafficUplinkInfo? uplink = null;
        if (!string.IsNullOrEmpty(topic))
        {
            if (current.Table.UplinkFor(topic) is not { } rule)
            {
                return Results.Json(new TrafficError($"no uplink rule of version {current.Table.Version} takes topic {topic}: the broker handles such a PUBLISH as any other", null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status404NotFound);
            }

            if (!string.IsNullOrEmpty(service) && service != rule.Service)
            {
                return Results.Json(new TrafficError($"topic {topic} is taken by uplink rule {rule.Name}, whose service is {rule.Service}, not {service}", null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status400BadRequest);
            }

            var batching = rule.Batching;
            var settings = options.Value;
            uplink = new TrafficUplinkInfo(
                rule.Name, rule.Filter, rule.Service, rule.Operation, rule.AlsoPublish ? "forward-and-publish" : "forward", rule.RequireUid, rule.Line,
                batching.SizeOr(settings), batching.BytesOr(settings), (long)batching.LingerOr(settings).TotalMilliseconds,
                rule.RequireUid && string.IsNullOrEmpty(uid) ? "requireUid: a publisher without an authenticated uid is refused" : null);
            service = rule.Service;
            platform = null;
            appVersion = null;
        }

        if (string.IsNullOrEmpty(service))
        {
            return Results.Json(new TrafficError("service (or an MQTT topic) is required: /api/v1/traffic/route?service=orders&uid=...", null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status400BadRequest);
        }

        var decision = current.Table.Resolve(new TrafficQuery(service, string.IsNullOrEmpty(uid) ? null : uid, deviceId, appVersion, platform, loadTest == true), current.Site);
        if (decision.Zone is not { } zone)
        {
            return Results.Json(new TrafficError($"no zone of site {current.Site.Name} is up", null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status404NotFound);
        }

        return Results.Json(
            new TrafficRouteInfo(current.Table.Version, zone.Name, zone.Site.Name, !ReferenceEquals(zone.Site, current.Site), TrafficRouter.ReasonName(decision.Reason), decision.Group, decision.GrayRule,
                decision.Endpoints is { } endpoints ? [.. endpoints.Select(e => new TrafficEndpointInfo(e, health.IsAvailable(e)))] : null, uplink),
            TrafficJsonContext.Default.TrafficRouteInfo);
    }

    private static IResult Read(TrafficTableStore store)
    {
        if (store.Current is not { } current)
        {
            return NotConfigured();
        }

        return Results.Json(
            new TrafficTableInfo(current.Table.Version, current.Site.Name, current.Source, current.AppliedAt,
                [.. store.History.Select(h => new TrafficVersionInfo(h.Table.Version, h.Source, h.AppliedAt))], current.Text),
            TrafficJsonContext.Default.TrafficTableInfo);
    }

    private static async Task<IResult> ValidateAsync(HttpContext context, TrafficTableStore store)
    {
        if (store.Current is null)
        {
            return NotConfigured();
        }

        var text = await ReadTextAsync(context.Request).ConfigureAwait(false);
        if (text is null)
        {
            return TooLarge();
        }

        try
        {
            var (table, _, diff) = store.Validate(text);
            return Results.Json(new TrafficValidation(table.Version, ToInfo(diff!)), TrafficJsonContext.Default.TrafficValidation);
        }
        catch (TrafficTableException ex)
        {
            return Refused(ex.Message, ex.Line);
        }
    }

    private static async Task<IResult> ApplyAsync(HttpContext context, TrafficTableStore store)
    {
        if (store.Current is null)
        {
            return NotConfigured();
        }

        var text = await ReadTextAsync(context.Request).ConfigureAwait(false);
        if (text is null)
        {
            return TooLarge();
        }

        var result = store.Apply(text, "admin");
        return result.Status == TrafficApplyStatus.Refused ? Refused(result.Error!, result.Line) : Applied(result);
    }

    private static IResult Rollback(TrafficTableStore store)
    {
        if (store.Current is null)
        {
            return NotConfigured();
        }

        var result = store.Rollback();
        return result.Status == TrafficApplyStatus.Refused
            ? Results.Json(new TrafficError(result.Error!, null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status409Conflict)
            : Applied(result);
    }

    private static IResult Applied(TrafficApplyResult result) =>
        Results.Json(new TrafficApplied(result.Status == TrafficApplyStatus.Applied ? "applied" : "unchanged", result.Version, result.Diff is { } diff ? ToInfo(diff) : null), TrafficJsonContext.Default.TrafficApplied);

    private static TrafficDiffInfo ToInfo(TrafficTableDiff diff) =>
        new(diff.FromVersion, diff.ToVersion, diff.ShardsMoved, diff.UidPercentMoved, diff.OverridesMoved, diff.ZonesAdded, diff.ZonesRemoved);

    private static IResult Refused(string error, long line) =>
        Results.Json(new TrafficError(error, line > 0 ? line : null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status422UnprocessableEntity);

    private static IResult NotConfigured() =>
        Results.Json(new TrafficError("No traffic table is configured on this node (Traffic:TableFile).", null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status404NotFound);

    private static IResult TooLarge() =>
        Results.Json(new TrafficError($"The table exceeds {MaxTableBytes} bytes.", null), TrafficJsonContext.Default.TrafficError, statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>The body as UTF-8 text, or null past <see cref="MaxTableBytes"/>.</summary>
    private static async Task<string?> ReadTextAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxTableBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxTableBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

internal sealed record TrafficTableInfo(long Version, string Site, string Source, DateTimeOffset AppliedAt, IReadOnlyList<TrafficVersionInfo> History, string Table);

internal sealed record TrafficVersionInfo(long Version, string Source, DateTimeOffset AppliedAt);

internal sealed record TrafficDiffInfo(long FromVersion, long ToVersion, int ShardsMoved, double UidPercentMoved, IReadOnlyList<string> OverridesMoved, IReadOnlyList<string> ZonesAdded, IReadOnlyList<string> ZonesRemoved);

internal sealed record TrafficValidation(long Version, TrafficDiffInfo Diff);

internal sealed record TrafficApplied(string Status, long Version, TrafficDiffInfo? Diff);

internal sealed record TrafficError(string Error, long? Line);

internal sealed record TrafficRouteInfo(long Version, string Zone, string Site, bool Forwarded, string Reason, string? Group, string? GrayRule, IReadOnlyList<TrafficEndpointInfo>? Endpoints, TrafficUplinkInfo? Uplink);

/// <summary>The uplink rule that takes a topic, with the batching in force for it (the rule's own, else <c>Traffic:Uplink*</c>), and why it would refuse such a publisher.</summary>
internal sealed record TrafficUplinkInfo(string Rule, string Topic, string Service, string Operation, string Mode, bool RequireUid, int Line, int BatchSize, int BatchBytes, long LingerMs, string? Refused);

internal sealed record TrafficEndpointInfo(string Url, bool Available);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TrafficTableInfo))]
[JsonSerializable(typeof(TrafficValidation))]
[JsonSerializable(typeof(TrafficApplied))]
[JsonSerializable(typeof(TrafficError))]
[JsonSerializable(typeof(TrafficRouteInfo))]
internal sealed partial class TrafficJsonContext : JsonSerializerContext;
