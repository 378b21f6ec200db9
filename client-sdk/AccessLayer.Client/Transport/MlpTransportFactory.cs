using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace AccessLayer.Client.Transport;

/// <summary>
/// The default transports by URI scheme: <c>tcp://host:port</c>, <c>tls://host:port</c> (ALPN <c>mlp/1</c>),
/// <c>ws://host:port/mlp</c> and <c>wss://...</c> (subprotocol <c>mlp.v1</c>).
/// </summary>
public sealed class MlpTransportFactory : IMlpAddressTransportFactory
{
    public static MlpTransportFactory Default { get; } = new();

    public ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken) => ConnectCoreAsync(endpoint, null, cancellationToken);

    /// <summary>TCP or TLS to <paramref name="address"/> (TLS validates <paramref name="endpoint"/>'s host name); WebSocket ignores the address.</summary>
    public ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, IPAddress address, CancellationToken cancellationToken) => ConnectCoreAsync(endpoint, address, cancellationToken);

    private static async ValueTask<IMlpTransport> ConnectCoreAsync(Uri endpoint, IPAddress? address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        switch (endpoint.Scheme)
        {
            case "tcp":
            case "tls":
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (address is not null)
                        await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                    else
                        await socket.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
                    Stream stream = new NetworkStream(socket, ownsSocket: false);
                    if (endpoint.Scheme == "tls")
                    {
                        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                        {
                            TargetHost = endpoint.Host,
                            ApplicationProtocols = [new SslApplicationProtocol("mlp/1")],
                        }, cancellationToken).ConfigureAwait(false);
                        stream = ssl;
                    }

                    return new StreamMlpTransport(socket, stream, endpoint.Scheme);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }

            case "ws":
            case "wss":
            {
                var socket = new ClientWebSocket();
                socket.Options.AddSubProtocol("mlp.v1");
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    return new WebSocketMlpTransport(socket);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }

            default:
                throw new NotSupportedException($"No MLP transport for scheme '{endpoint.Scheme}' (tcp, tls, ws, wss).");
        }
    }
}
