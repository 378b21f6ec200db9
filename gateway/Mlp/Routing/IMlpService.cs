using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>A service the gateway routes REQUESTs to by their <c>:service</c> header: a backend over HTTP, or built in.</summary>
public interface IMlpService
{
    /// <summary>
    /// Handles one request. Failures of the service itself are answered as 5xx responses (502, 504), not
    /// thrown; <paramref name="cancellationToken"/> fires at the request's deadline or when the link goes away.
    /// </summary>
    ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken);
}

/// <summary>One decoded request: the caller's identity, the operation, the non-pseudo headers and the uncompressed body.</summary>
public sealed record MlpServiceRequest(
    string Service,
    string Operation,
    IReadOnlyList<HeaderField> Headers,
    ReadOnlyMemory<byte> Body,
    string DeviceId,
    string UserId,
    string SessionId,
    bool Idempotent,
    TimeSpan Timeout)
{
    /// <summary>The logger of the long link the request came on (its lines name the device, the node and the connection); null over HTTP.</summary>
    internal ILogger? ConnectionLogger { get; init; }

    /// <summary>The platform the client named in its HELLO (<c>ios</c>, <c>android</c>, ...), for gray rules; null over HTTP or when it named none.</summary>
    internal string? Platform { get; init; }

    /// <summary>The zone cookie of the long link (from WELCOME, HELLO or the link's last routed response), used when the request carries none; null over HTTP.</summary>
    internal string? ZoneCookie { get; init; }

    /// <summary>The long link's last verified zone cookie (its HMAC is computed once per link and cookie, not per call); null over HTTP.</summary>
    internal AccessLayer.Gateway.Traffic.ZoneCookieCache? ZoneCookieCache { get; init; }

    /// <summary>The app version the client named in its HELLO, for gray rules; null over HTTP or when it named none.</summary>
    internal string? AppVersion { get; init; }
}

/// <summary>The answer to route back: an HTTP-style status, response headers and the uncompressed body.</summary>
public sealed record MlpServiceResponse(int Status, IReadOnlyList<HeaderField> Headers, ReadOnlyMemory<byte> Body)
{
    /// <summary>
    /// The array from <see cref="System.Buffers.ArrayPool{T}.Shared"/> that <see cref="Body"/> lies in, when the service read
    /// it into one (an HTTP backend's answer): whoever sends the answer last may return it once written (a long link's writer
    /// does); a holder that does not just leaves it to the collector. Null: <see cref="Body"/> is no pooled array's.
    /// </summary>
    internal byte[]? RentedBody { get; init; }

    public static MlpServiceResponse Empty(int status, string? message = null) =>
        new(status, message is null ? [] : [new HeaderField("error-message", message)], ReadOnlyMemory<byte>.Empty);
}
