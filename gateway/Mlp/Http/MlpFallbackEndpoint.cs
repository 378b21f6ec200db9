using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Pipelines;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Gateway.Mlp.Http;

/// <summary>
/// <c>POST /mlp/v1/request</c>, the short-connection fallback (docs/protocol.md §15): one REQUEST frame
/// in, one RESPONSE (or ERROR) frame out, authenticated by a bearer device token or a resume ticket,
/// header blocks with a table-less HPACK context. Runs the same routing as the long link.
/// </summary>
internal static class MlpFallbackEndpoint
{
    public const string ContentType = "application/x-mlp-frame";

    /// <summary>The HTTP cookie that carries the traffic table's zone cookie over the fallback (docs/traffic.md).</summary>
    public const string ZoneCookieName = "mlp-zone";

    public static async Task HandleAsync(HttpContext context, MlpGateway gateway)
    {
        var request = context.Request;
        var options = gateway.Options;
        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), ContentType, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        if (request.Headers.TryGetValue("Mlp-Version", out var version) && version.ToString() != "1")
        {
            await WriteErrorAsync(context, gateway, MlpErrorCode.UnsupportedVersion, "This server speaks MLP version 1.", 0).ConfigureAwait(false);
            return;
        }

        var limit = options.MaxFrameSize + MlpLimits.MaxFrameHeaderSize;

        // ReadBodyAsync stops at the limit already; Kestrel's own cap keeps any other reader bounded too.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = limit + 1;
        if (request.ContentLength > limit)
        {
            await WriteErrorAsync(context, gateway, MlpErrorCode.FrameTooLarge, $"The frame exceeds {options.MaxFrameSize} bytes.", 0).ConfigureAwait(false);
            return;
        }

        var identity = await AuthenticateAsync(context, gateway).ConfigureAwait(false);
        if (!identity.Succeeded)
        {
            gateway.Metrics.HandshakesRejected.Add(1, MlpMetrics.Tag("code", "fallback_" + identity.Reason));
            await WriteErrorAsync(context, gateway, identity.Code, identity.Message, 0).ConfigureAwait(false);
            return;
        }

        var body = await ReadBodyAsync(request.BodyReader, limit, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await WriteErrorAsync(context, gateway, MlpErrorCode.FrameTooLarge, $"The frame exceeds {options.MaxFrameSize} bytes.", 0).ConfigureAwait(false);
            return;
        }

        uint streamId = 0;
        try
        {
            var sequence = new ReadOnlySequence<byte>(body);
            var reader = new SequenceReader<byte>(sequence);
            if (!MlpFrameReader.TryRead(ref reader, options.MaxFrameSize, out var frame) || !reader.End)
                throw new MlpProtocolException(MlpErrorCode.MalformedFrame, "The body must be exactly one whole frame.");
            if (frame.Type != MlpFrameType.Request)
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"The fallback carries REQUEST frames, not {frame.Type}.");
            var parsed = MlpRequestFrame.Parse(frame);
            streamId = parsed.StreamId;
            var decoder = new HpackDecoder(new HpackDecoderOptions { DynamicTableSizeLimit = 0, MaxHeaderListSize = options.MaxHeaderListSize, MaxStringLength = options.MaxHeaderListSize });
            var fields = MlpHeaders.Decode(decoder, parsed.HeaderBlock);
            var (service, operation, headers) = MlpHeaders.SplitRequest(fields, streamId);
            var requestBody = gateway.Bodies.DecodeRequestBody(parsed.Body, parsed.IsBodyCompressed, streamId);

            MlpServiceResponse response;
            var routedByTable = false;
            var span = MlpRequestSpan.Start(service, operation, "http", identity.DeviceId, headers);
            try
            {
                if (gateway.Router.TryGet(service, out var target, out var ceiling))
                {
                    routedByTable = target is AccessLayer.Gateway.Traffic.TrafficMlpService;
                    // The traffic table's zone cookie, kept by the client's HTTP stack (used when the frame carries none).
                    var call = new MlpServiceRequest(service, operation, headers, requestBody, identity.DeviceId, identity.UserId, string.Empty, parsed.IsIdempotent, MlpHeaders.Timeout(headers, ceiling))
                    {
                        ZoneCookie = request.Cookies.TryGetValue(ZoneCookieName, out var zoneCookie) ? zoneCookie : null,
                    };
                    response = await gateway.Calls.InvokeAsync(target, call, gateway.Logger, context.RequestAborted).ConfigureAwait(false);
                }
                else
                {
                    response = MlpServiceResponse.Empty(404, $"no service '{service}'");
                }
            }
            catch
            {
                MlpRequestSpan.End(span, 499);
                throw;
            }

            MlpRequestSpan.End(span, response.Status);

            gateway.Metrics.Requests.Add(1, MlpMetrics.Tag("service", gateway.Router.TryGet(service, out _, out _) ? service : MlpMetrics.OtherService), MlpMetrics.Tag("status", (response.Status / 100).ToString(CultureInfo.InvariantCulture) + "xx"), MlpMetrics.Tag("transport", "http"));
            if (parsed.IsOneWay)
            {
                if (response.Status >= 400)
                    await WriteErrorAsync(context, gateway, MlpErrorCode.InternalError, $"The one-way request failed with status {response.Status}.", streamId).ConfigureAwait(false);
                else
                    context.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            }

            if (routedByTable && AccessLayer.Gateway.Traffic.TrafficHeaders.Find(response.Headers, AccessLayer.Gateway.Traffic.TrafficHeaders.ZoneCookie) is { } fresh)
            {
                context.Response.Cookies.Append(ZoneCookieName, fresh, new CookieOptions { HttpOnly = true, Path = "/mlp", SameSite = SameSiteMode.Strict, Secure = request.IsHttps });
            }

            await WriteResponseAsync(context, gateway, streamId, response).ConfigureAwait(false);
        }
        catch (MlpProtocolException ex)
        {
            var dictionaryId = ex.InnerException is ZstdException { Kind: ZstdErrorKind.UnknownDictionary } z ? z.DictionaryId : 0;
            await WriteErrorAsync(context, gateway, ex.Code, ex.Message, streamId, dictionaryId).ConfigureAwait(false);
        }
    }

    private static async Task WriteResponseAsync(HttpContext context, MlpGateway gateway, uint streamId, MlpServiceResponse response)
    {
        // Mlp-Dictionaries present (even empty) means the client decompresses zstd; its ids say which dictionaries it holds.
        var clientZstd = context.Request.Headers.TryGetValue("Mlp-Dictionaries", out var held);
        var ids = new HashSet<uint>();
        foreach (var part in held.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (uint.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                ids.Add(id);
        }

        var (body, compressed, _) = gateway.Bodies.EncodeBody(response.Body, clientZstd, ids.Contains);
        var encoder = new HpackEncoder(new HpackEncoderOptions { DynamicTableSizeLimit = 0, MaxDynamicTableSize = 0 });
        var headerBlock = new ArrayBufferWriter<byte>(128);
        encoder.Encode(response.Headers, headerBlock);
        context.Response.StatusCode = response.Status;
        context.Response.ContentType = ContentType;
        MlpFrameWriter.WriteResponse(context.Response.BodyWriter, streamId, response.Status, compressed ? MlpFrameFlags.BodyZstd : MlpFrameFlags.None, headerBlock.WrittenSpan, body.Span);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    public static async Task WriteErrorAsync(HttpContext context, MlpGateway gateway, MlpErrorCode code, string message, uint streamId, uint dictionaryId = 0)
    {
        gateway.Metrics.StreamErrors.Add(1, MlpMetrics.Tag("code", code.ToString()), MlpMetrics.Tag("transport", "http"));
        context.Response.StatusCode = MlpFallbackStatus.For(code);
        context.Response.ContentType = ContentType;
        MlpFrameWriter.WriteError(context.Response.BodyWriter, new Error { Code = code, Message = message, StreamId = streamId, DictionaryId = dictionaryId });
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The whole body, or null as soon as it passes <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null;
            }

            if (result.Buffer.Length > limit)
            {
                reader.AdvanceTo(result.Buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return bytes;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    internal readonly record struct FallbackIdentity(bool Succeeded, string DeviceId, string UserId, MlpErrorCode Code, string Message, string Reason);

    /// <summary>A resume ticket (<c>Mlp-Resume-Ticket</c>, base64url) or a bearer device token, as on the long link.</summary>
    internal static async Task<FallbackIdentity> AuthenticateAsync(HttpContext context, MlpGateway gateway)
    {
        var headers = context.Request.Headers;
        var claimedDevice = headers["Mlp-Device-Id"].ToString();
        if (headers.TryGetValue("Mlp-Resume-Ticket", out var ticketHeader))
        {
            var text = ticketHeader.ToString();
            var raw = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
            if (Base64Url.IsValid(text) && Base64Url.TryDecodeFromChars(text, raw, out var length)
                && gateway.Tickets.TryUnprotect(raw.AsSpan(0, length), out var ticket)
                && (claimedDevice.Length == 0 || claimedDevice == ticket.DeviceId))
            {
                return new FallbackIdentity(true, ticket.DeviceId, ticket.UserId, default, string.Empty, "ticket");
            }

            if (!headers.ContainsKey("Authorization"))
                return new FallbackIdentity(false, string.Empty, string.Empty, MlpErrorCode.ResumeRejected, "The resume ticket is invalid or expired.", "resume_rejected");
        }

        var authorization = headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : string.Empty;
        var device = claimedDevice;
        if (device.Length == 0 && token.Length > 0 && MlpDeviceToken.TryDecodeUnverified(token, out var unverified))
            device = unverified.DeviceId;
        var result = await gateway.Authenticator.AuthenticateAsync(new MlpAuthRequest(device, token, context.Connection.RemoteIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.RemotePort) : null, null), context.RequestAborted).ConfigureAwait(false);
        return result.Succeeded
            ? new FallbackIdentity(true, result.DeviceId, result.UserId, default, string.Empty, "token")
            : new FallbackIdentity(false, string.Empty, string.Empty, MlpErrorCode.AuthFailed, "Authentication failed: " + result.Reason, "auth_failed");
    }
}
