using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Transport;

namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>A lean server connection and a plain client socket joined over loopback, port picked by the kernel.</summary>
internal sealed class LoopbackPair : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly LeanConnectionListener _listener;

    private LoopbackPair(LeanConnectionListener listener, Socket client, LeanConnection server)
    {
        _listener = listener;
        Client = client;
        Server = server;
    }

    public Socket Client { get; }

    public LeanConnection Server { get; }

    public static async Task<LoopbackPair> OpenAsync(int clientReceiveBuffer = 0)
    {
        var listener = LeanConnectionListener.Bind(new LeanEndPoint(IPAddress.Loopback, 0));
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (clientReceiveBuffer > 0)
        {
            client.ReceiveBufferSize = clientReceiveBuffer;
        }

        await client.ConnectAsync(listener.EndPoint);
        var server = (LeanConnection)(await listener.AcceptAsync())!;
        return new LoopbackPair(listener, client, server);
    }

    public async Task SendAsync(byte[] bytes) => await Client.SendAsync(bytes, SocketFlags.None);

    /// <summary>Reads exactly <paramref name="count"/> bytes (or fewer if the server closes) on the client side.</summary>
    public async Task<byte[]> ReceiveAsync(int count)
    {
        var buffer = new byte[count];
        var total = 0;
        using var timeout = new CancellationTokenSource(Timeout);
        while (total < count)
        {
            var n = await Client.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                return buffer[..total];
            }

            total += n;
        }

        return buffer;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        await _listener.DisposeAsync();
    }
}
