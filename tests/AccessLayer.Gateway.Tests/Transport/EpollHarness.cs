using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using AccessLayer.Gateway.Transport.Epoll;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>
/// An <see cref="EpollEngine"/> on loopback port 0 whose pipeline hands each accepted connection to
/// the test and then runs <c>body</c> (default: wait until the connection is closed).
/// </summary>
internal sealed class EpollHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Channel<EpollConnection> _accepted = Channel.CreateUnbounded<EpollConnection>();
    private readonly List<Socket> _clients = [];

    private EpollHarness(int loops, bool inline, Func<ConnectionContext, Task>? body, ILogger? logger, EpollLoop.WaitFunction? wait, AccessLayer.Gateway.Metrics.GatewayMetrics? metrics)
    {
        body ??= static connection => Task.Delay(System.Threading.Timeout.Infinite, connection.ConnectionClosed).ContinueWith(static _ => { }, TaskScheduler.Default);
        Engine = new EpollEngine(loops, inline, connection =>
        {
            _accepted.Writer.TryWrite((EpollConnection)connection);
            return body(connection);
        }, (_, ex) => Failures.Enqueue(ex), logger ?? NullLogger.Instance, metrics, wait);
        Engine.Start(new IPEndPoint(IPAddress.Loopback, 0));
    }

    public EpollEngine Engine { get; }

    public System.Collections.Concurrent.ConcurrentQueue<Exception> Failures { get; } = new();

    public static EpollHarness Start(int loops = 2, bool inline = false, Func<ConnectionContext, Task>? body = null, ILogger? logger = null, EpollLoop.WaitFunction? wait = null, AccessLayer.Gateway.Metrics.GatewayMetrics? metrics = null) =>
        new(loops, inline, body, logger, wait, metrics);

    public async Task<Socket> ConnectClientAsync(int receiveBuffer = 0)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer > 0)
        {
            client.ReceiveBufferSize = receiveBuffer;
        }

        lock (_clients)
        {
            _clients.Add(client);
        }

        await client.ConnectAsync(Engine.EndPoint!);
        return client;
    }

    public async Task<(Socket Client, EpollConnection Server)> ConnectAsync(int receiveBuffer = 0)
    {
        var client = await ConnectClientAsync(receiveBuffer);
        var server = await _accepted.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        return (client, server);
    }

    public static async Task<byte[]> ReceiveAsync(Socket client, int count)
    {
        var buffer = new byte[count];
        var total = 0;
        using var timeout = new CancellationTokenSource(Timeout);
        while (total < count)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, timeout.Token);
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
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        using var timeout = new CancellationTokenSource(Timeout);
        await Engine.StopAsync(timeout.Token);
    }
}
