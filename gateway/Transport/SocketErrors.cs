using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport;

/// <summary>Maps socket errors to the exceptions Kestrel's own transport surfaces, so handlers catch the same types.</summary>
internal static class SocketErrors
{
    public static Exception ToException(SocketError error) => error switch
    {
        SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted
            => new ConnectionResetException(new SocketException((int)error).Message),
        SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument
            => new ConnectionAbortedException("The connection was aborted."),
        _ => new IOException(new SocketException((int)error).Message),
    };
}
