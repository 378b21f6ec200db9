using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Transport;

/// <summary>A listening socket; Kestrel's dispatcher calls <see cref="AcceptAsync"/> in its one accept loop.</summary>
internal sealed class LeanConnectionListener : IConnectionListener
{
    private const int Backlog = 512;
    private readonly Socket _listenSocket;

    private LeanConnectionListener(Socket listenSocket, EndPoint endPoint)
    {
        _listenSocket = listenSocket;
        EndPoint = endPoint;
    }

    public EndPoint EndPoint { get; }

    public static LeanConnectionListener Bind(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        // Report the bound port (0 asks the kernel for one) and stay marked for a rebind.
        var bound = (IPEndPoint)socket.LocalEndPoint!;
        return new LeanConnectionListener(socket, new LeanEndPoint(bound.Address, bound.Port));
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _listenSocket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException)
            {
                // A connection reset before we accepted it: keep accepting the others.
                continue;
            }

            accepted.NoDelay = true;
            // Reads and sends are non-blocking calls; only readiness waits are asynchronous.
            accepted.Blocking = false;
            return new LeanConnection(accepted);
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _listenSocket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _listenSocket.Dispose();
        return ValueTask.CompletedTask;
    }
}
