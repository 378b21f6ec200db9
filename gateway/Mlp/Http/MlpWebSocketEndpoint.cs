using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Transport;

namespace AccessLayer.Gateway.Mlp.Http;

/// <summary><c>GET /mlp</c>: MLP over WebSocket binary messages (docs/protocol.md §2.1), subprotocol <c>mlp.v1</c> when offered.</summary>
internal static class MlpWebSocketEndpoint
{
    public const string SubProtocol = "mlp.v1";

    public static async Task HandleAsync(HttpContext context, MlpGateway gateway)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // Admitted like every other connection (caps, per-address rate, drain), before the upgrade costs anything.
        var listener = context.Request.IsHttps ? ListenerNames.MlpSecureWebSocket : ListenerNames.MlpWebSocket;
        var remote = context.Connection.RemoteIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.RemotePort) : null;
        var governor = context.RequestServices.GetRequiredService<ConnectionGovernor>();
        var admission = governor.TryAdmit(listener, remote);
        if (admission != Admission.Admitted)
        {
            // Before the upgrade the refusal is HTTP's, mapped as the fallback maps it (§15.2): 503 or 429 with
            // Retry-After, the GOAWAY's code and message as text.
            var goAway = MlpAdmissionRefusal.For(admission, gateway.Options);
            context.Response.StatusCode = MlpFallbackStatus.For(goAway.Code);
            context.Response.Headers.RetryAfter = Math.Max(1, (goAway.RetryAfterMs + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync($"{goAway.Code}: {goAway.Message}").ConfigureAwait(false);
            return;
        }

        try
        {
            await RunAsync(context, gateway, remote).ConfigureAwait(false);
        }
        finally
        {
            governor.Release(listener);
        }
    }

    private static async Task RunAsync(HttpContext context, MlpGateway gateway, System.Net.IPEndPoint? remote)
    {
        var offered = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offered ? SubProtocol : null).ConfigureAwait(false);
        var pipe = new WebSocketPipe(socket, new MlpWebSocketFraming(gateway.Options.MaxFrameSize));
        var transport = new MlpTransport(pipe, context.TraceIdentifier, remote, "websocket", _ => pipe.Abort());
        var connection = new MlpConnection(transport, gateway);
        var running = Task.Run(async () =>
        {
            try
            {
                await connection.RunAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                MlpLog.ConnectionFailed(gateway.Logger, ex, context.TraceIdentifier);
                await pipe.Output.CompleteAsync().ConfigureAwait(false);
            }
        });
        var pumping = pipe.RunAsync(gateway.Time, context.RequestAborted);
        await running.ConfigureAwait(false);
        await pipe.FinishAsync(pumping, gateway.Time).ConfigureAwait(false);
    }
}
