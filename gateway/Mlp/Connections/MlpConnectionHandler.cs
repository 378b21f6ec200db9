using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>The entry point for the MLP TCP and TLS listeners: one call per accepted connection, for its lifetime.</summary>
internal sealed class MlpConnectionHandler(MlpGateway gateway) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var transport = new MlpTransport(connection.Transport, connection.ConnectionId, connection.RemoteEndPoint,
            connection.Features.Get<ITlsHandshakeFeature>() is null ? "tcp" : "tls",
            reason => connection.Abort(new ConnectionAbortedException(reason)), connection.Features.Get<Transport.Tls.ITlsEarlyDataFeature>());
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
