using System.Buffers;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Hpack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The serving side of site links, on <c>Traffic:ForwardPort</c>: a connection that opens with <c>"ALT1"</c> is a link
/// from another site's gateway (<see cref="TrafficLink"/>), any other goes on to HTTP/2 (h2c) as before. Each call frame
/// is taken only with a valid signature made within <c>Traffic:ForwardClockSkew</c> (else that call is refused, the link
/// stays), routed by this node's table as a call that has made its one hop (as <see cref="TrafficForwardEndpoint"/>),
/// and answered on the link in whatever order calls finish. A link the gateway ends (a malformed frame, the gateway
/// stopping) answers the calls it has read first, then sends a refusal: the calls the peer still waits for were never
/// read here. At most <c>Traffic:LinkMaxCalls</c> calls of one link run at
/// once; past that the link is not read until one ends (TCP pushes back on the sender). A malformed frame, or one
/// longer than the body limit allows, ends the link with a refusal that says why.
/// </summary>
internal sealed class TrafficLinkServer(TrafficRouter router, TrafficTableStore store, TrafficKeys keys, TrafficMetrics metrics, IOptions<TrafficOptions> options, MlpGateway gateway, ILogger<TrafficLinkServer> logger)
{
    /// <summary>Kestrel connection middleware: a link is served here, anything else is passed to <paramref name="next"/>.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= TrafficLinkFrames.Magic.Length || result.IsCompleted)
            {
                if (IsLink(buffer) && store.IsEnabled)
                {
                    input.AdvanceTo(buffer.GetPosition(TrafficLinkFrames.Magic.Length));
                    await ServeAsync(connection).ConfigureAwait(false);
                    return;
                }

                // Not a link: nothing consumed or examined, so HTTP/2 reads the same bytes at once.
                input.AdvanceTo(buffer.Start);
                await next(connection).ConfigureAwait(false);
                return;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool IsLink(in ReadOnlySequence<byte> buffer)
    {
        var magic = TrafficLinkFrames.Magic;
        if (buffer.Length < magic.Length)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[magic.Length];
        buffer.Slice(0, magic.Length).CopyTo(head);
        return head.SequenceEqual(magic);
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        metrics.Links.Add(1, TrafficMetrics.Tag("direction", "in"));
        var name = connection.RemoteEndPoint?.ToString() ?? connection.ConnectionId;
        var writer = new TrafficLinkWriter(connection.Transport.Output);
        // Answers that can no longer be sent end the link: the peer's calls on it fail there instead of waiting out their deadlines.
        var reading = true;
        _ = writer.Completion.ContinueWith(
            _ =>
            {
                if (Volatile.Read(ref reading))
                {
                    connection.Abort();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        var input = connection.Transport.Input;
        var maxFrame = gateway.Options.MaxBodySize + TrafficLinkFrames.MaxOverheadBytes;
        var max = options.Value.LinkMaxCalls;
        using var inFlight = new SemaphoreSlim(max, max);
        // Kestrel asks a connection to close when the gateway stops: the link then takes no more calls and ends once those it has are answered.
        var stopping = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var reads = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, stopping);
        using var calls = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        var reason = "closed by the peer";
        string? refusal = null;
        var peerGone = false;
        var strings = new TrafficLinkStrings();
        // The link's calls carry the cookies of many users: each user's is verified once, not on every call.
        var cookies = new ZoneCookieCache(ZoneCookieCache.SiteLinkUsers);
        // The service a link's calls are routed through, kept while their hop stays the same (one forwarding site per link).
        TrafficMlpService? service = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(reads.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (TrafficLinkFrames.TryReadFrame(ref buffer, maxFrame, out var frame))
                    {
                        var call = TrafficLinkFrames.ReadCall(frame, strings);
                        if (service is null || !ReferenceEquals(service.ForwardedFrom, call.Forward.Hop))
                        {
                            service = new TrafficMlpService(router, call.Forward.Hop);
                        }

                        await inFlight.WaitAsync(reads.Token).ConfigureAwait(false);
                        _ = ServeCallAsync(call, service, cookies, writer, inFlight, calls.Token);
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    peerGone = true;
                    break;
                }
            }
        }
        catch (TrafficLinkException ex)
        {
            // Bad input from a peer: it is told why once the calls read before are answered, then the link ends.
            reason = refusal = ex.Message;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !connection.ConnectionClosed.IsCancellationRequested)
        {
            reason = refusal = "the gateway is stopping";
        }
        catch (OperationCanceledException) when (reads.IsCancellationRequested)
        {
            reason = "the connection closed";
            peerGone = true;
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException)
        {
            reason = ex.Message;
            peerGone = true;
        }
        finally
        {
            TrafficLog.LinkClosed(logger, name, reason);
            if (peerGone)
            {
                // Nobody is left to answer: the calls still running stop.
                await calls.CancelAsync().ConfigureAwait(false);
            }

            // The calls still running hold the semaphore: their answers go out before the refusal, so every call the peer
            // still waits for after it was never read here (the peer may send it to another gateway of this site).
            for (var i = 0; i < max; i++)
            {
                await inFlight.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            if (refusal is not null)
            {
                var frame = TrafficLinkFrames.EncodeRefusal(0, refusal, out var length);
                writer.Send(frame, length);
            }

            // Ending on purpose from here: what is queued is written before Kestrel closes the connection.
            Volatile.Write(ref reading, false);
            writer.Complete();
            await writer.Completion.ConfigureAwait(false);
        }
    }

    private async Task ServeCallAsync(LinkCall call, TrafficMlpService service, ZoneCookieCache cookies, TrafficLinkWriter writer, SemaphoreSlim inFlight, CancellationToken linkClosed)
    {
        try
        {
            var forward = call.Forward;
            var now = gateway.Time.GetUtcNow().ToUnixTimeSeconds();
            if (forward.Hop.Length == 0 || Math.Abs(now - forward.UnixSeconds) > options.Value.ForwardClockSkew.TotalSeconds
                || !TrafficForwardSignature.Verify(keys.Forward, forward, call.Body, call.Signature))
            {
                const string why = "no valid signature of a gateway (Traffic:Secret) made within Traffic:ForwardClockSkew";
                TrafficLog.ForwardRefused(logger, forward.Service, forward.Hop, why);
                metrics.ForwardsRefused.Add(1, TrafficMetrics.Tag("reason", "signature"));
                var refusal = TrafficLinkFrames.EncodeRefusal(call.Id, why, out var refusalLength);
                writer.Send(refusal, refusalLength);
                return;
            }

            var ceiling = TimeSpan.FromSeconds(gateway.Options.RequestTimeoutSeconds);
            var timeout = call.TimeoutMs > 0 && TimeSpan.FromMilliseconds(call.TimeoutMs) < ceiling ? TimeSpan.FromMilliseconds(call.TimeoutMs) : ceiling;
            var request = new MlpServiceRequest(forward.Service, forward.Operation, Headers(call.Headers), call.Body, forward.DeviceId, forward.UserId, forward.SessionId, forward.Idempotent, timeout)
            {
                Platform = forward.Platform,
                AppVersion = forward.AppVersion,
                ZoneCookieCache = cookies,
            };
            var response = await MlpRequestExecutor.InvokeAsync(service, request, gateway.Time, logger, linkClosed).ConfigureAwait(false);
            var frame = TrafficLinkFrames.EncodeAnswer(call.Id, response, out var length);
            // The frame holds a copy of the body: a pooled one (the backend's answer) goes back now.
            if (response.RentedBody is { } rented)
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            writer.Send(frame, length);
        }
        catch (OperationCanceledException) when (linkClosed.IsCancellationRequested)
        {
            // The link is gone: nobody waits for this answer.
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>The client's headers as the forwarding gateway passed them, without any that would speak for the identity or the hop.</summary>
    private static HeaderField[] Headers(HeaderField[] headers)
    {
        var clean = true;
        foreach (var header in headers)
        {
            clean &= !IsDropped(header.Name);
        }

        return clean ? headers : Array.FindAll(headers, static h => !IsDropped(h.Name));
    }

    private static bool IsDropped(string name) =>
        name is "x-mlp-device-id" or "x-mlp-user-id" or "x-mlp-session-id" || name.StartsWith("x-traffic-", StringComparison.Ordinal);
}
