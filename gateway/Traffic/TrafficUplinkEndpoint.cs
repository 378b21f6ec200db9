using System.Globalization;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// <c>POST /traffic/v1/uplink/{rule}/{zone}/{group}</c> on the device surface: an MQTT uplink batch another site's
/// gateway sent here because its table puts the zone in this site (<see cref="TrafficUplinkSender"/>). Accepted only
/// with a valid signature made within <c>Traffic:ForwardClockSkew</c> (403), then posted to an endpoint of that group
/// of this site's zone, never sent on: the answer is the backend's status (502 unreachable, 504 no answer in
/// <c>Traffic:UplinkTimeout</c>), 404 when this table has no such rule, zone or group, 508 when the zone is not in this site.
/// </summary>
internal static class TrafficUplinkEndpoint
{
    public static async Task HandleAsync(HttpContext context, string rule, string zone, string group, TrafficTableStore store, TrafficUplinkSender sender, TrafficKeys keys, TrafficMetrics metrics, IOptions<TrafficOptions> options, TimeProvider time, ILogger<TrafficUplinks> logger)
    {
        if (store.Current is not { } version)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var body = await TrafficForwardEndpoint.ReadBodyAsync(context.Request, (options.Value.UplinkBatchBytes * 2) + (64 * 1024), context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        var headers = context.Request.Headers;
        var hop = headers[TrafficHeaders.Hop].ToString();
        var info = new TrafficUplinkBatchInfo(headers[TrafficUplinkSender.BatchIdHeader].ToString(), rule, zone, version.Site.Name, group, version.Table.Version, headers[TrafficHeaders.BackendLoadTest].ToString() == "1");
        var count = int.TryParse(headers[TrafficUplinkSender.CountHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        var at = long.TryParse(headers[TrafficHeaders.Time].ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var t) ? t : long.MinValue;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (hop.Length == 0 || count < 0 || at == long.MinValue || Math.Abs(now - at) > options.Value.ForwardClockSkew.TotalSeconds
            || !TrafficForwardSignature.Verify(keys.Forward, TrafficUplinkSender.Signed(at, hop, info, count), body, headers[TrafficHeaders.Signature].ToString()))
        {
            TrafficLog.ForwardRefused(logger, "uplink:" + rule, hop, "no valid signature of a gateway (Traffic:Secret) made within Traffic:ForwardClockSkew");
            metrics.ForwardsRefused.Add(1, TrafficMetrics.Tag("reason", "signature"));
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        var table = version.Table;
        var uplink = table.Uplinks.FirstOrDefault(r => r.Name == rule);
        if (uplink is null || !table.Zones.TryGetValue(zone, out var target) || !target.Services.TryGetValue(uplink.Service, out var service))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (!ReferenceEquals(target.Site, version.Site))
        {
            // The sender's table puts the zone here and ours elsewhere: a second hop could loop.
            TrafficLog.ForwardRefused(logger, "uplink:" + rule, hop, $"zone {zone} is in site {target.Site.Name}, and a forwarded batch is not forwarded again");
            metrics.ForwardsRefused.Add(1, TrafficMetrics.Tag("reason", "loop"));
            context.Response.StatusCode = StatusCodes.Status508LoopDetected;
            return;
        }

        var endpoints = group switch
        {
            TrafficService.BlueGroup => service.Blue,
            TrafficService.GreenGroup => service.Green,
            _ => service.Groups.TryGetValue(group, out var named) ? named : [],
        };
        if (endpoints.Length == 0)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var (status, _) = await sender.PostToBackendAsync(endpoints, service.Http2, uplink.Operation, body, info with { Site = target.Site.Name }, count, options.Value.UplinkTimeout, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = status;
    }
}
