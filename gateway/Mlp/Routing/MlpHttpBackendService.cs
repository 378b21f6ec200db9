using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>
/// Forwards a REQUEST to an HTTP/1.1 or h2c backend: <c>POST {Url}/{operation}</c> with the body, its
/// content type and the other request headers, plus the authenticated identity in
/// <c>x-mlp-device-id</c>, <c>x-mlp-user-id</c> and <c>x-mlp-session-id</c> (the gateway overwrites
/// any the client sent). The backend's status, headers and body come back as the RESPONSE.
/// Timeouts become 504, unreachable or failing backends 502.
/// </summary>
internal sealed class MlpHttpBackendService(string name, MlpRouteOptions route, IHttpClientFactory clients, ILogger logger) : IMlpService
{
    public const string HttpClientName = "mlp-backend";

    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "proxy-connection", "host", "content-length",
        "x-mlp-device-id", "x-mlp-user-id", "x-mlp-session-id", "timeout-ms",
    };

    private readonly Uri _baseUri = new(route.Url.EndsWith('/') ? route.Url : route.Url + "/", UriKind.Absolute);

    public ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken) =>
        SendAsync(clients, _baseUri, route.Http2, name, request, logger, cancellationToken);

    /// <summary>One call of <paramref name="request"/> to the backend at <paramref name="baseUri"/> (ending in <c>/</c>), as described above; <paramref name="name"/> names it in the log.</summary>
    public static async ValueTask<MlpServiceResponse> SendAsync(IHttpClientFactory clients, Uri baseUri, bool http2, string name, MlpServiceRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, Uri.EscapeDataString(request.Operation)));
        if (http2)
        {
            message.Version = HttpVersion.Version20;
            message.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        var content = new ReadOnlyMemoryContent(request.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        message.Content = content;
        // While the gateway's span is current, HttpClient sends its traceparent (whose parent is the client's, if any).
        var traced = Activity.Current is not null;
        foreach (var header in request.Headers)
        {
            if (NotForwarded.Contains(header.Name) || (traced && MlpRequestSpan.IsTraceContext(header.Name)))
                continue;
            if (header.Name == "content-type")
            {
                if (MediaTypeHeaderValue.TryParse(header.Value, out var type))
                    content.Headers.ContentType = type;
                continue;
            }

            message.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }

        message.Headers.TryAddWithoutValidation("x-mlp-device-id", request.DeviceId);
        message.Headers.TryAddWithoutValidation("x-mlp-user-id", request.UserId);
        message.Headers.TryAddWithoutValidation("x-mlp-session-id", request.SessionId);

        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            List<HeaderField> headers = [];
            foreach (var (headerName, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (NotForwarded.Contains(headerName) || headerName.Equals("date", StringComparison.OrdinalIgnoreCase) || headerName.Equals("server", StringComparison.OrdinalIgnoreCase))
                    continue;
                headers.Add(new HeaderField(headerName.ToLowerInvariant(), string.Join(", ", values)));
            }

            var status = (int)response.StatusCode;
            return new MlpServiceResponse(status is >= 100 and <= 999 ? status : 502, headers, body);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            MlpLog.BackendFailed(request.ConnectionLogger ?? logger, name, request.Operation, "timed out");
            return MlpServiceResponse.Empty(504, "backend timeout");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            MlpLog.BackendFailed(request.ConnectionLogger ?? logger, name, request.Operation, ex.Message);
            return MlpServiceResponse.Empty(502, "backend unavailable");
        }
    }
}
