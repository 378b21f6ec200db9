using System.Buffers;
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
internal sealed class MlpHttpBackendService(string name, MlpRouteOptions route, IHttpMessageHandlerFactory handlers, ILogger logger) : IMlpService
{
    /// <summary>The named HTTP handler (<c>AddHttpClient</c>) of every backend call and forward.</summary>
    public const string HttpClientName = "mlp-backend";

    private const string DefaultContentType = "application/x-protobuf";

    /// <summary>The pooled array a response body is first read into: most answers fit.</summary>
    private const int InitialBodyBuffer = 4096;

    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "proxy-connection", "host", "content-length",
        "x-mlp-device-id", "x-mlp-user-id", "x-mlp-session-id", "timeout-ms",
    };

    private readonly Uri _baseUri = new(route.Url.EndsWith('/') ? route.Url : route.Url + "/", UriKind.Absolute);
    private readonly MlpOperationUris _uris = new();

    public ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken) =>
        SendAsync(handlers, _uris.Get(_baseUri, request.Operation), route.Http2, name, request, logger, cancellationToken);

    /// <summary>
    /// One call of <paramref name="request"/> to <paramref name="uri"/> (the backend's base and the escaped operation,
    /// <see cref="MlpOperationUris"/>), as described above; <paramref name="name"/> names it in the log.
    /// </summary>
    /// <remarks>
    /// Sent through the named handler with an <see cref="HttpMessageInvoker"/>, not an <see cref="HttpClient"/>: the call's
    /// deadline is <paramref name="cancellationToken"/>, so HttpClient's linked token source, its own 100 s timer and
    /// (with the factory's logging handlers, removed in <c>AddMlpGateway</c>) two log scopes per call were garbage only.
    /// </remarks>
    public static async ValueTask<MlpServiceResponse> SendAsync(IHttpMessageHandlerFactory handlers, Uri uri, bool http2, string name, MlpServiceRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, uri);
        if (http2)
        {
            message.Version = HttpVersion.Version20;
            message.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        var content = new ReadOnlyMemoryContent(request.Body);
        message.Content = content;
        // While the gateway's span is current, the handler sends its traceparent (whose parent is the client's, if any).
        var traced = Activity.Current is not null;
        MediaTypeHeaderValue? contentType = null;
        foreach (var header in request.Headers)
        {
            if (NotForwarded.Contains(header.Name) || (traced && MlpRequestSpan.IsTraceContext(header.Name)))
                continue;
            if (header.Name == "content-type")
            {
                // The last valid one wins; an invalid one leaves the default.
                if (MediaTypeHeaderValue.TryParse(header.Value, out var type))
                    contentType = type;
                continue;
            }

            message.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }

        if (contentType is null)
            content.Headers.TryAddWithoutValidation("content-type", DefaultContentType);
        else
            content.Headers.ContentType = contentType;
        message.Headers.TryAddWithoutValidation("x-mlp-device-id", request.DeviceId);
        message.Headers.TryAddWithoutValidation("x-mlp-user-id", request.UserId);
        message.Headers.TryAddWithoutValidation("x-mlp-session-id", request.SessionId);

        try
        {
            using var invoker = new HttpMessageInvoker(handlers.CreateHandler(HttpClientName), disposeHandler: false);
            using var response = await invoker.SendAsync(message, cancellationToken).ConfigureAwait(false);
            // The body into a pooled array, doubled as it fills, read here (no buffering content and copy of it); the
            // answer carries the array for its sender to return (MlpServiceResponse.RentedBody).
            var rented = ArrayPool<byte>.Shared.Rent(InitialBodyBuffer);
            var length = 0;
            try
            {
                var stream = response.Content.ReadAsStream(cancellationToken);
                while (true)
                {
                    if (length == rented.Length)
                        rented = Grow(rented, length);
                    var read = await stream.ReadAsync(rented.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        break;
                    length += read;
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(rented);
                throw;
            }

            var status = (int)response.StatusCode;
            var headers = ResponseHeaders(response);
            if (length == 0)
            {
                ArrayPool<byte>.Shared.Return(rented);
                return new MlpServiceResponse(status is >= 100 and <= 999 ? status : 502, headers, ReadOnlyMemory<byte>.Empty);
            }

            return new MlpServiceResponse(status is >= 100 and <= 999 ? status : 502, headers, rented.AsMemory(0, length)) { RentedBody = rented };
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

    /// <summary>A pooled array twice the size of <paramref name="full"/> with its <paramref name="length"/> bytes; <paramref name="full"/> goes back.</summary>
    private static byte[] Grow(byte[] full, int length)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(checked(full.Length * 2));
        full.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(full);
        return bigger;
    }

    /// <summary>
    /// The backend's response and content headers as the RESPONSE's, lower-case, repeated values joined with <c>", "</c>,
    /// without hop-by-hop ones, <c>date</c> and <c>server</c>. Read as received (<see cref="HttpHeaders.NonValidated"/>):
    /// nothing is parsed and re-formatted, and a header of one value is the string the handler already holds.
    /// </summary>
    private static HeaderField[] ResponseHeaders(HttpResponseMessage response)
    {
        var kept = Count(response.Headers.NonValidated) + Count(response.Content.Headers.NonValidated);
        if (kept == 0)
            return [];
        var headers = new HeaderField[kept];
        var next = Copy(response.Headers.NonValidated, headers, 0);
        Copy(response.Content.Headers.NonValidated, headers, next);
        return headers;
    }

    /// <summary>One value as it is; several joined with <c>", "</c> (whatever separator the handler would use for the name).</summary>
    private static string Joined(HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            foreach (var value in values)
                return value;
        }

        return string.Join(", ", values);
    }

    private static bool Kept(string name) =>
        !NotForwarded.Contains(name) && !name.Equals("date", StringComparison.OrdinalIgnoreCase) && !name.Equals("server", StringComparison.OrdinalIgnoreCase);

    private static int Count(HttpHeadersNonValidated headers)
    {
        var count = 0;
        foreach (var header in headers)
        {
            if (Kept(header.Key))
                count++;
        }

        return count;
    }

    private static int Copy(HttpHeadersNonValidated headers, HeaderField[] into, int next)
    {
        foreach (var header in headers)
        {
            if (Kept(header.Key))
                into[next++] = new HeaderField(header.Key.AsSpan().ContainsAnyInRange('A', 'Z') ? header.Key.ToLowerInvariant() : header.Key, Joined(header.Value));
        }

        return next;
    }
}
