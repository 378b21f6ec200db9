using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>Kestrel's entry point for the MLP TCP listener: one call per accepted connection, for its lifetime.</summary>
internal sealed class MlpConnectionHandler(MlpGateway gateway) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var transport = new MlpTransport(connection.Transport, connection.ConnectionId, connection.RemoteEndPoint, "tcp",
            reason => connection.Abort(new ConnectionAbortedException(reason)));
        try
        {
            await new MlpConnection(transport, gateway).RunAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Never let one connection's bug reach Kestrel's loop; the connection alone ends.
            MlpLog.ConnectionFailed(gateway.Logger, ex, connection.ConnectionId);
        }
    }
}
