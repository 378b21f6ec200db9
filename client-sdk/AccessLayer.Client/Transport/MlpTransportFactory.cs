using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace AccessLayer.Client.Transport;

/// <summary>
/// The default transports by URI scheme: <c>tcp://host:port</c>, <c>tls://host:port</c> (ALPN <c>mlp/1</c>),
/// <c>ws://host:port/mlp</c> and <c>wss://...</c> (subprotocol <c>mlp.v1</c>).
/// </summary>
public sealed class MlpTransportFactory : IMlpTransportFactory
{
    public static MlpTransportFactory Default { get; } = new();

    public async ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
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
