using AccessLayer.Gateway.Mlp.Connections;

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

        var offered = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offered ? SubProtocol : null).ConfigureAwait(false);
        var pipe = new MlpWebSocketPipe(socket, gateway.Options.MaxFrameSize);
        var remote = context.Connection.RemoteIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.RemotePort) : null;
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
        await pipe.RunAsync(gateway.Time, context.RequestAborted).ConfigureAwait(false);
        await running.ConfigureAwait(false);
    }
}
