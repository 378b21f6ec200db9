using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Net.Http.Headers;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client.Internal;

/// <summary>
/// The short-connection fallback (docs/protocol.md §15): one REQUEST frame POSTed to
/// <c>/mlp/v1/request</c> with table-less HPACK, answered by one RESPONSE or ERROR frame.
/// </summary>
internal static class MlpHttpFallback
{
    public const string ContentType = "application/x-mlp-frame";

    /// <summary>
    /// The SDK's own client for the fallback: a pooled connection idle longer than <see cref="MlpWeakNetworkOptions.VerifyIdleLinkAfter"/>
    /// is closed, not reused (a NAT may have forgotten it, and a request on it would hang until its deadline).
    /// </summary>
    public static HttpClient CreateClient(MlpWeakNetworkOptions weak)
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = weak.VerifyIdleLinkAfter };
        if (Transport.TcpLossRecovery.Supported && (weak.TcpRtoMin > TimeSpan.Zero || weak.TcpThinLinearTimeouts))
        {
            // The fallback crosses the same lossy path as the link: its sockets get the same loss recovery (docs/sdk.md "TCP loss recovery").
            var (rtoMin, thinLinear) = (weak.TcpRtoMin, weak.TcpThinLinearTimeouts);
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    Transport.TcpLossRecovery.TryApply(socket, rtoMin, thinLinear);
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler);
    }

    /// <summary>Opens (or keeps) a pooled connection to the fallback: a HEAD its request path answers without work (405); failures are ignored.</summary>
    public static async Task WarmAsync(HttpClient http, Uri baseUri)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(baseUri, "mlp/v1/request"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    public static async Task<MlpResponse> CallAsync(MlpClient client, HttpClient http, Uri baseUri, string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, CancellationToken cancellationToken)
    {
        var clientOptions = client.Options;
        var timeout = options.Timeout ?? clientOptions.DefaultTimeout;
        List<HeaderField> headers = [new(":service", service), new(":operation", operation)];
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            headers.Add(new HeaderField("timeout-ms", ((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
        headers.AddRange(options.Headers);

        var accepted = client.LastWelcome is { } welcome ? [welcome.DictionaryId, .. welcome.AcceptedDictionaryIds] : Array.Empty<uint>();
        var (wireBody, compressed, dictionaryId) = clientOptions.EnableCompression && !options.DisableCompression
            ? client.Bodies.Compress(body, accepted)
            : (body, false, 0u);
        var block = new ArrayBufferWriter<byte>(128);
        new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = 0, MaxDynamicTableSize = 0 }).Encode(headers, block);
        var frame = new ArrayBufferWriter<byte>(wireBody.Length + block.WrittenCount + 16);
        var flags = (compressed ? MlpFrameFlags.BodyZstd : 0) | (options.Idempotent ? MlpFrameFlags.Idempotent : 0) | (options.OneWay ? MlpFrameFlags.OneWay : 0);
        MlpFrameWriter.WriteRequest(frame, 1, flags, block.WrittenSpan, wireBody.Span);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "mlp/v1/request"));
        var content = new ReadOnlyMemoryContent(frame.WrittenMemory);
        content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
        request.Content = content;
        request.Headers.TryAddWithoutValidation("Mlp-Version", "1");
        if (!string.IsNullOrEmpty(clientOptions.DeviceId))
            request.Headers.TryAddWithoutValidation("Mlp-Device-Id", clientOptions.DeviceId);
        if (client.ResumeTicket is { Length: > 0 } ticket)
            request.Headers.TryAddWithoutValidation("Mlp-Resume-Ticket", Base64Url.EncodeToString(ticket.Span));
        if (!string.IsNullOrEmpty(clientOptions.DeviceToken))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", clientOptions.DeviceToken);
        if (clientOptions.EnableCompression)
            request.Headers.TryAddWithoutValidation("Mlp-Dictionaries", string.Join(',', client.Bodies.HeldIds.Select(id => id.ToString(CultureInfo.InvariantCulture))));

        using var deadline = new CancellationTokenSource(timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan ? timeout : Timeout.InfiniteTimeSpan, clientOptions.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using var response = await http.SendAsync(request, linked.Token).ConfigureAwait(false);
        var answer = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
        client.CountSent(frame.WrittenCount);
        client.CountReceived(answer.Length);
        if (answer.Length == 0)
        {
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
                return new MlpResponse { Status = 202, Headers = [], Body = ReadOnlyMemory<byte>.Empty, Transport = "http", BytesSent = frame.WrittenCount, RequestCompressed = compressed, RequestDictionaryId = dictionaryId };
            throw new MlpException(MlpErrorCode.ProtocolError, $"The fallback answered HTTP {(int)response.StatusCode} without a frame.");
        }

        var sequence = new ReadOnlySequence<byte>(answer);
        var reader = new SequenceReader<byte>(sequence);
        if (!MlpFrameReader.TryRead(ref reader, clientOptions.MaxFrameSize, out var mlpFrame) || !reader.End)
            throw new MlpException(MlpErrorCode.MalformedFrame, "The fallback answer is not one whole frame.");
        switch (mlpFrame.Type)
        {
            case MlpFrameType.Response:
                var parsed = MlpResponseFrame.Parse(mlpFrame);
                var decoded = new HpackDecoder(new HpackDecoderOptions { DynamicTableSizeLimit = 0 }).Decode(parsed.HeaderBlock);
                byte[] responseBody;
                uint responseDictionary;
                try
                {
                    responseBody = client.Bodies.Decode(parsed.Body, parsed.IsBodyCompressed, out responseDictionary);
                }
                catch (ZstdException ex)
                {
                    throw new MlpException(MlpCompressionErrors.ToErrorCode(ex.Kind), "The response body could not be decompressed: " + ex.Message) { DictionaryId = ex.DictionaryId };
                }

                return new MlpResponse
                {
                    Status = parsed.Status,
                    Headers = decoded,
                    Body = responseBody,
                    Transport = "http",
                    BytesSent = frame.WrittenCount,
                    BytesReceived = answer.Length,
                    RequestCompressed = compressed,
                    RequestDictionaryId = dictionaryId,
                    ResponseCompressed = parsed.IsBodyCompressed,
                    ResponseDictionaryId = responseDictionary,
                };
            case MlpFrameType.Error:
                var error = MlpEnvelope.ParseError(mlpFrame);
                throw new MlpException(error.Code, error.Message) { DictionaryId = error.DictionaryId, RetryAfterMs = error.RetryAfterMs };
            case MlpFrameType.GoAway:
                var goAway = MlpEnvelope.ParseGoAway(mlpFrame);
                throw new MlpException(goAway.Code, goAway.Message, notProcessed: true) { RetryAfterMs = goAway.RetryAfterMs };
            default:
                throw new MlpException(MlpErrorCode.UnexpectedFrame, $"The fallback answered with a {mlpFrame.Type} frame.");
        }
    }
}
