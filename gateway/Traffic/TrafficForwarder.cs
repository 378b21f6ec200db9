using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Hpack;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Forwards a call for a zone of another site to that site's gateways (<c>sites.*.gateways</c>):
/// <c>POST {gateway}traffic/v1/forward/{service}/{operation}</c> with the body, the client's headers, the caller's
/// identity and HELLO facts, the hop (this node's site) and a dated signature (<see cref="TrafficForwardSignature"/>).
/// The gateways are tried in a random order; the next one only when the call was never sent (no connection) or is
/// idempotent. The answer's status comes back in <c>x-traffic-status</c>, its headers and body as they are.
/// </summary>
internal sealed class TrafficForwarder(TrafficKeys keys, IHttpClientFactory clients, TrafficMetrics metrics, IOptions<MlpOptions> mlp, TimeProvider time, ILogger<TrafficForwarder> logger) : IAsyncDisposable
{
    /// <summary>One per gateway endpoint of a <c>link: true</c> site of some applied table: bounded by the tables.</summary>
    private readonly ConcurrentDictionary<string, TrafficLink> _links = new(StringComparer.Ordinal);

    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "proxy-connection", "host", "content-length",
        "x-mlp-device-id", "x-mlp-user-id", "x-mlp-session-id", "timeout-ms", "date", "server", "content-type",
    };

    /// <summary>The other site's answer (<c>Forwarded</c>), or this gateway's own when no gateway of that site answered.</summary>
    // The state machine of a call that waits is taken from a pool, not allocated per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(bool Forwarded, MlpServiceResponse Response)> ForwardAsync(MlpServiceRequest request, string hop, TrafficSite site, CancellationToken cancellationToken)
    {
        var gateways = site.Gateways;
        if (gateways.Length == 0)
        {
            metrics.Forwarded.Add(1, TrafficMetrics.Tag("result", "failed"));
            return (false, MlpServiceResponse.Empty(502, $"site {site.Name} has no gateways to forward to"));
        }

        var start = Random.Shared.Next(gateways.Length);
        for (var i = 0; i < gateways.Length; i++)
        {
            var gateway = gateways[(start + i) % gateways.Length];
            try
            {
                var response = site.Link
                    ? await LinkAsync(gateway, request, hop, cancellationToken).ConfigureAwait(false)
                    : await SendAsync(new Uri(gateway.EndsWith('/') ? gateway : gateway + "/", UriKind.Absolute), site.Http2, request, hop, cancellationToken).ConfigureAwait(false);
                metrics.Forwarded.Add(1, TrafficMetrics.Tag("result", "ok"));
                return (true, response);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                TrafficLog.ForwardFailed(request.ConnectionLogger ?? logger, request.Service, request.Operation, site.Name, gateway, ex.Message);
                var neverSent = ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } or TrafficLinkException { NeverSent: true };
                if (!neverSent && !request.Idempotent)
                {
                    break;
                }
            }
        }

        metrics.Forwarded.Add(1, TrafficMetrics.Tag("result", "failed"));
        return (false, MlpServiceResponse.Empty(502, $"no gateway of site {site.Name} answered"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var link in _links.Values)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The forward over the site link to <paramref name="gateway"/> (opened by the first): the same signed call as over HTTP, as one frame.</summary>
    private ValueTask<MlpServiceResponse> LinkAsync(string gateway, MlpServiceRequest request, string hop, CancellationToken cancellationToken)
    {
        if (!_links.TryGetValue(gateway, out var link))
        {
            var uri = new Uri(gateway, UriKind.Absolute);
            link = _links.GetOrAdd(gateway, new TrafficLink(uri.IdnHost, uri.Port, mlp.Value.MaxBodySize + TrafficLinkFrames.MaxOverheadBytes, metrics, time, logger));
        }

        var forward = new TrafficForward(time.GetUtcNow().ToUnixTimeSeconds(), hop, request.Service, request.Operation, request.DeviceId, request.UserId, request.SessionId, request.Idempotent, request.Platform, request.AppVersion);
        // The long link's cookie travels as if the client had sent it: the other site honours it as any cookie.
        var cookie = request.ZoneCookie is { } linkCookie && TrafficHeaders.Find(request.Headers, TrafficHeaders.ZoneCookie) is null ? new HeaderField(TrafficHeaders.ZoneCookie, linkCookie) : (HeaderField?)null;
        return link.CallAsync(forward, (int)Math.Min(request.Timeout.TotalMilliseconds, int.MaxValue), keys.Forward, request, LinkHeaders(request.Headers), cookie, cancellationToken);
    }

    /// <summary>The client's headers a forward carries (as over HTTP): the request's own list when it has none to leave out.</summary>
    private static IReadOnlyList<HeaderField> LinkHeaders(IReadOnlyList<HeaderField> headers)
    {
        var keep = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            keep += IsForwarded(headers[i].Name) ? 1 : 0;
        }

        if (keep == headers.Count)
        {
            return headers;
        }

        var kept = new HeaderField[keep];
        var at = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            if (IsForwarded(headers[i].Name))
            {
                kept[at++] = headers[i];
            }
        }

        return kept;
    }

    private static bool IsForwarded(string name) => !NotForwarded.Contains(name) && !name.StartsWith("x-traffic-", StringComparison.Ordinal);

    private async Task<MlpServiceResponse> SendAsync(Uri gateway, bool http2, MlpServiceRequest request, string hop, CancellationToken cancellationToken)
    {
        var forward = new TrafficForward(time.GetUtcNow().ToUnixTimeSeconds(), hop, request.Service, request.Operation, request.DeviceId, request.UserId, request.SessionId, request.Idempotent, request.Platform, request.AppVersion);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, $"traffic/v1/forward/{Uri.EscapeDataString(request.Service)}/{Uri.EscapeDataString(request.Operation)}"));
        if (http2)
        {
            message.Version = System.Net.HttpVersion.Version20;
            message.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        var content = new ReadOnlyMemoryContent(request.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        message.Content = content;
        foreach (var header in request.Headers)
        {
            if (!NotForwarded.Contains(header.Name) && !header.Name.StartsWith("x-traffic-", StringComparison.Ordinal))
            {
                message.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
        }

        if (request.ZoneCookie is { } linkCookie && TrafficHeaders.Find(request.Headers, TrafficHeaders.ZoneCookie) is null)
        {
            // The long link's cookie travels as if the client had sent it: the other site honours it as any cookie.
            message.Headers.TryAddWithoutValidation(TrafficHeaders.ZoneCookie, linkCookie);
        }

        message.Headers.TryAddWithoutValidation("x-mlp-device-id", request.DeviceId);
        message.Headers.TryAddWithoutValidation("x-mlp-user-id", request.UserId);
        message.Headers.TryAddWithoutValidation("x-mlp-session-id", request.SessionId);
        message.Headers.TryAddWithoutValidation("timeout-ms", ((long)request.Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation(TrafficHeaders.Hop, hop);
        message.Headers.TryAddWithoutValidation(TrafficHeaders.Time, forward.UnixSeconds.ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation(TrafficHeaders.Idempotent, request.Idempotent ? "1" : "0");
        if (request.Platform is { } platform)
        {
            message.Headers.TryAddWithoutValidation(TrafficHeaders.Platform, platform);
        }

        if (request.AppVersion is { } appVersion)
        {
            message.Headers.TryAddWithoutValidation(TrafficHeaders.AppVersion, appVersion);
        }

        message.Headers.TryAddWithoutValidation(TrafficHeaders.Signature, TrafficForwardSignature.Compute(keys.Forward, forward, request.Body.Span));

        using var response = await clients.CreateClient(MlpHttpBackendService.HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.Headers.TryGetValues(TrafficHeaders.Status, out var statuses)
            || !int.TryParse(statuses.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            // Not a gateway's forward answer (an old node, a proxy's error page): the call did not reach a backend.
            throw new HttpRequestException($"{gateway} answered {(int)response.StatusCode} without {TrafficHeaders.Status}");
        }

        List<HeaderField> headers = [];
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!NotForwarded.Contains(name) && !name.StartsWith("x-traffic-", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add(new HeaderField(name.ToLowerInvariant(), string.Join(", ", values)));
            }
        }

        if (response.Content.Headers.ContentType is { } type)
        {
            headers.Add(new HeaderField("content-type", type.ToString()));
        }

        headers.Add(new HeaderField(TrafficHeaders.ForwardedBy, hop));
        return new MlpServiceResponse(status, headers, body);
    }
}
