using System.Buffers;
using System.Globalization;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Hpack;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// <c>POST /traffic/v1/forward/{service}/{operation}</c> on the device surface: a call another site's gateway forwarded
/// here (<see cref="TrafficForwarder"/>). Accepted only with a valid signature made within <c>Traffic:ForwardClockSkew</c>
/// (403 otherwise: the identity it carries would be anyone's), then routed by this node's table as a call that has made
/// its one hop: served in this site or refused (508), never forwarded again. Answered 200 with the call's status in
/// <c>x-traffic-status</c> and its headers and body.
/// </summary>
internal static class TrafficForwardEndpoint
{
    public static async Task HandleAsync(HttpContext context, string service, string operation, TrafficRouter router, TrafficTableStore store, TrafficKeys keys, TrafficMetrics metrics, IOptions<TrafficOptions> options, MlpGateway gateway, ILogger<TrafficRouter> logger)
    {
        if (!store.IsEnabled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var request = context.Request;
        var body = await ReadBodyAsync(request, gateway.Options.MaxBodySize, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        var headers = request.Headers;
        var hop = headers[TrafficHeaders.Hop].ToString();
        var forward = new TrafficForward(
            long.TryParse(headers[TrafficHeaders.Time].ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var at) ? at : long.MinValue,
            hop, service, operation, headers["x-mlp-device-id"].ToString(), headers["x-mlp-user-id"].ToString(), headers["x-mlp-session-id"].ToString(),
            headers[TrafficHeaders.Idempotent].ToString() == "1", Optional(headers, TrafficHeaders.Platform), Optional(headers, TrafficHeaders.AppVersion));
        var now = gateway.Time.GetUtcNow().ToUnixTimeSeconds();
        if (hop.Length == 0 || forward.UnixSeconds == long.MinValue || Math.Abs(now - forward.UnixSeconds) > options.Value.ForwardClockSkew.TotalSeconds
            || !TrafficForwardSignature.Verify(keys.Forward, forward, body, headers[TrafficHeaders.Signature].ToString()))
        {
            TrafficLog.ForwardRefused(logger, service, hop, "no valid signature of a gateway (Traffic:Secret) made within Traffic:ForwardClockSkew");
            metrics.ForwardsRefused.Add(1, TrafficMetrics.Tag("reason", "signature"));
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        List<HeaderField> fields = [];
        foreach (var (name, values) in headers)
        {
            var lower = name.ToLowerInvariant();
            if (lower is "host" or "content-length" or "content-type" or "connection" or "transfer-encoding" or "x-mlp-device-id" or "x-mlp-user-id" or "x-mlp-session-id"
                || lower.StartsWith("x-traffic-", StringComparison.Ordinal))
            {
                continue;
            }

            fields.Add(new HeaderField(lower, values.ToString()));
        }

        var ceiling = TimeSpan.FromSeconds(gateway.Options.RequestTimeoutSeconds);
        var call = new MlpServiceRequest(service, operation, fields, body, forward.DeviceId, forward.UserId, forward.SessionId, forward.Idempotent, MlpHeaders.Timeout(fields, ceiling))
        {
            Platform = forward.Platform,
            AppVersion = forward.AppVersion,
        };
        var response = await MlpRequestExecutor.InvokeAsync(new TrafficMlpService(router, hop), call, gateway.Time, logger, context.RequestAborted).ConfigureAwait(false);

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers[TrafficHeaders.Status] = response.Status.ToString(CultureInfo.InvariantCulture);
        foreach (var header in response.Headers)
        {
            context.Response.Headers.Append(header.Name, header.Value);
        }

        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static string? Optional(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var value) && value.Count > 0 ? value.ToString() : null;

    /// <summary>The whole body, or null past <paramref name="limit"/>.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        if (request.ContentLength is { } known)
        {
            // The usual case (both gateways send a length): one array of that size, read straight from the pipe.
            var body = new byte[known];
            var filled = 0;
            while (true)
            {
                var result = await request.BodyReader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var take = (int)Math.Min(result.Buffer.Length, known - filled);
                result.Buffer.Slice(0, take).CopyTo(body.AsSpan(filled));
                filled += take;
                request.BodyReader.AdvanceTo(result.Buffer.GetPosition(take));
                if (filled == known || result.IsCompleted)
                {
                    return filled == known ? body : null;
                }
            }
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
