using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Transport.Epoll;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class EpollEngineTests
{
    private static async Task EchoAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                foreach (var segment in result.Buffer)
                {
                    await output.WriteAsync(segment);
                }

                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (ConnectionAbortedException)
        {
            // Shutdown aborts us.
        }
    }

    [Fact]
    public async Task Port_zero_binds_a_kernel_chosen_port_and_reports_it()
    {
        await using var harness = EpollHarness.Start();

        Assert.NotEqual(0, harness.Engine.EndPoint!.Port);
        Assert.Equal(IPAddress.Loopback, harness.Engine.EndPoint.Address);
        var (client, _) = await harness.ConnectAsync();
        Assert.True(client.Connected);
    }

    [Fact]
    public async Task Many_concurrent_connections_each_echo_their_own_bytes()
    {
        await using var harness = EpollHarness.Start(loops: 3, body: EchoAsync);
        var clients = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => harness.ConnectClientAsync()));

        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            var message = BitConverter.GetBytes(i).Concat(Enumerable.Repeat((byte)i, 5000)).ToArray();
            await client.SendAsync(message, SocketFlags.None);
            Assert.Equal(message, await EpollHarness.ReceiveAsync(client, message.Length));
        }));

        Assert.Equal(200, harness.Engine.LiveConnections);
    }

    [Fact]
    public async Task Stop_closes_every_connection_and_waits_for_their_pipelines()
    {
        var harness = EpollHarness.Start(loops: 2, body: EchoAsync);
        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => harness.ConnectClientAsync()));
        foreach (var client in clients)
        {
            await client.SendAsync(new byte[] { 1 }, SocketFlags.None);
            Assert.Single(await EpollHarness.ReceiveAsync(client, 1));
        }

        using var timeout = new CancellationTokenSource(EpollHarness.Timeout);
        await harness.Engine.StopAsync(timeout.Token);

        Assert.Equal(0, harness.Engine.LiveConnections);
        foreach (var client in clients)
        {
            Assert.Empty(await ReceiveOrResetAsync(client));
        }

        await Assert.ThrowsAnyAsync<SocketException>(() => harness.ConnectClientAsync());
        await harness.DisposeAsync();
    }

    [Fact]
    public void Needs_at_least_one_loop()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EpollEngine(0, false, _ => Task.CompletedTask, (_, _) => { }, NullLogger.Instance));
    }

    private static async Task<byte[]> ReceiveOrResetAsync(Socket client)
    {
        try
        {
            return await EpollHarness.ReceiveAsync(client, 1);
        }
        catch (SocketException)
        {
            return [];
        }
    }
}
