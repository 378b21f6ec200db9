using System.Text.Json;
using AccessLayer.SessionGrains.Fleet;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// <c>GET /api/v1/stats/stream?node=&amp;since=</c>: a node's samples as server-sent events (<c>text/event-stream</c>), for
/// scripts and tools (<c>curl -N</c>): first every sample kept after <c>since</c>, then each new one, one event per sample
/// (<c>id:</c> its time in Unix milliseconds, <c>data:</c> the point as <c>/api/v1/stats</c> gives it). The node is asked
/// once per sample interval (a peer through its node grain); the stream ends when the client goes away or the node
/// stops, or with an <c>event: gone</c> when the asked node stops answering. A reconnecting client's <c>Last-Event-ID</c> is its <c>since</c>.
/// </summary>
internal static class StatsStream
{
    public static async Task RunAsync(HttpContext context, IFleet fleet, NodeStatsSampler sampler, TimeProvider time, IHostApplicationLifetime lifetime, string? node, long? since)
    {
        var target = string.IsNullOrEmpty(node) ? fleet.NodeId : node;
        if (long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), out var lastEventId))
        {
            since = lastEventId;
        }

        var after = since is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253_402_300_799_999)) : DateTimeOffset.MinValue;
        // Ends with the host too: an open stream must not hold a shutdown until Kestrel gives up on it.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var cancellationToken = ended.Token;
        var first = await fleet.GetNodeStatsAsync(target, after, cancellationToken).ConfigureAwait(false);
        if (first is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new DashboardError($"No reachable node '{target}'."), DashboardJsonContext.Default.DashboardError, contentType: null, cancellationToken).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        // Past a reverse proxy's buffering (nginx), so each event leaves when written.
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var interval = first.Interval > TimeSpan.Zero ? first.Interval : sampler.Interval;
        var stats = first;
        try
        {
            while (true)
            {
                foreach (var sample in stats.Samples)
                {
                    var data = JsonSerializer.Serialize(DashboardEndpoints.ToPoint(sample), DashboardJsonContext.Default.StatsPoint);
                    await context.Response.WriteAsync($"id: {sample.At.ToUnixTimeMilliseconds()}\ndata: {data}\n\n", cancellationToken).ConfigureAwait(false);
                    after = sample.At;
                }

                await context.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
                var next = await fleet.GetNodeStatsAsync(target, after, cancellationToken).ConfigureAwait(false);
                if (next is null)
                {
                    await context.Response.WriteAsync("event: gone\ndata: {}\n\n", cancellationToken).ConfigureAwait(false);
                    return;
                }

                stats = next;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}
