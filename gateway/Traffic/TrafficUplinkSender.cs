using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using AccessLayer.Gateway.Mlp.Routing;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Posts one uplink batch: to an endpoint of the zone's group in this site (<c>POST {endpoint}/{operation}</c>, the
/// endpoint picked as for MLP calls and its outcome counted for outlier ejection), or, for a zone of another site, to
/// one of that site's gateways (<c>POST {gateway}traffic/v1/uplink/{rule}/{zone}/{group}</c>, signed as forwards are),
/// which posts it to its backend and answers with the backend's status. The status comes back: 502 when nothing
/// answered, 504 when the attempt ran past <c>Traffic:UplinkTimeout</c>.
/// </summary>
internal sealed class TrafficUplinkSender(IHttpClientFactory clients, TrafficEndpointHealth health, TrafficKeys keys, TimeProvider time)
{
    public const string BatchIdHeader = "x-uplink-batch-id";
    public const string RuleHeader = "x-uplink-rule";
    public const string CountHeader = "x-uplink-count";

    /// <summary>To an endpoint of <paramref name="endpoints"/> (a group of this site).</summary>
    public async Task<(int Status, string Target)> PostToBackendAsync(string[] endpoints, bool http2, string operation, byte[] body, TrafficUplinkBatchInfo info, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var endpoint = health.Pick(endpoints);
        var status = await PostAsync(new Uri(new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/"), Uri.EscapeDataString(operation)), http2, body, info, count, timeout, null, cancellationToken).ConfigureAwait(false);
        health.RecordCall(endpoint, status);
        return (status, endpoint);
    }

    /// <summary>To a gateway of <paramref name="site"/>, tried in random order until one answers.</summary>
    public async Task<(int Status, string Target)> PostToPeerAsync(TrafficSite site, string hop, byte[] body, TrafficUplinkBatchInfo info, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (site.Gateways.Length == 0)
        {
            return (502, $"site {site.Name} (no gateways)");
        }

        var start = Random.Shared.Next(site.Gateways.Length);
        var status = 502;
        var target = site.Gateways[start];
        for (var i = 0; i < site.Gateways.Length; i++)
        {
            target = site.Gateways[(start + i) % site.Gateways.Length];
            var uri = new Uri(new Uri(target.EndsWith('/') ? target : target + "/"),
                $"traffic/v1/uplink/{Uri.EscapeDataString(info.Rule)}/{Uri.EscapeDataString(info.Zone)}/{Uri.EscapeDataString(info.Group)}");
            var forward = Signed(time.GetUtcNow().ToUnixTimeSeconds(), hop, info, count);
            status = await PostAsync(uri, site.Http2 || site.Link, body, info, count, timeout, (forward, TrafficForwardSignature.Compute(keys.Forward, forward, body)), cancellationToken).ConfigureAwait(false);
            if (status != 502)
            {
                // The gateway answered (with its backend's status): a batch is posted to one gateway at a time.
                break;
            }
        }

        return (status, target);
    }

    /// <summary>What the signature of a batch forwarded to another site covers, besides the body.</summary>
    public static TrafficForward Signed(long unixSeconds, string hop, in TrafficUplinkBatchInfo info, int count) =>
        new(unixSeconds, hop, "uplink:" + info.Rule, info.Zone + "/" + info.Group, string.Empty, string.Empty, info.BatchId, info.LoadTest, count.ToString(CultureInfo.InvariantCulture), null);

    public static void AddHeaders(HttpRequestMessage message, in TrafficUplinkBatchInfo info, int count)
    {
        message.Headers.TryAddWithoutValidation(BatchIdHeader, info.BatchId);
        message.Headers.TryAddWithoutValidation(RuleHeader, info.Rule);
        message.Headers.TryAddWithoutValidation(CountHeader, count.ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation(TrafficHeaders.BackendZone, info.Zone);
        message.Headers.TryAddWithoutValidation(TrafficHeaders.BackendGroup, info.Group);
        if (info.LoadTest)
        {
            message.Headers.TryAddWithoutValidation(TrafficHeaders.BackendLoadTest, "1");
        }
    }

    private async Task<int> PostAsync(Uri uri, bool http2, byte[] body, TrafficUplinkBatchInfo info, int count, TimeSpan timeout, (TrafficForward Forward, string Signature)? signed, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, uri);
        if (http2)
        {
            message.Version = HttpVersion.Version20;
            message.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(TrafficUplinkBatch.ContentType);
        message.Content = content;
        AddHeaders(message, info, count);
        if (signed is { } s)
        {
            message.Headers.TryAddWithoutValidation(TrafficHeaders.Hop, s.Forward.Hop);
            message.Headers.TryAddWithoutValidation(TrafficHeaders.Time, s.Forward.UnixSeconds.ToString(CultureInfo.InvariantCulture));
            message.Headers.TryAddWithoutValidation(TrafficHeaders.Signature, s.Signature);
        }

        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await clients.CreateClient(MlpHttpBackendService.HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return 504;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
        {
            // Nothing usable came back: counted as unreachable, and the batch is sent again.
            return 502;
        }
    }
}
