using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Transport.Epoll;
using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Metrics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task A_failing_epoll_wait_is_logged_and_counted_its_connections_close_and_new_ones_go_to_the_other_loop()
    {
        var logger = new Infrastructure.RecordingLogger();
        using var failures = new Infrastructure.LoopFailureCounter();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>());
        var failNext = 0;
        EpollLoop.WaitFunction wait = (int epfd, nint events, int maxEvents, int timeout, out int errno) =>
        {
            if (Interlocked.Exchange(ref failNext, 0) == 1)
            {
                errno = 9; // EBADF: what a closed or corrupted epoll fd returns
                return -1;
            }

            return EpollLoop.SystemWait(epfd, events, maxEvents, timeout, out errno);
        };
        await using var harness = EpollHarness.Start(loops: 2, body: EchoAsync, logger: logger, wait: wait, metrics: metrics);
        var victim = await harness.ConnectClientAsync();

        // The victim's loop wakes for its byte and its next wait fails; the echo may or may not get out first.
        Volatile.Write(ref failNext, 1);
        await victim.SendAsync(new byte[] { 1 }, SocketFlags.None);
        var received = await ReceiveOrResetAsync(victim);
        if (received.Length == 1)
        {
            received = await ReceiveOrResetAsync(victim);
        }

        Assert.Empty(received);
        Assert.True(logger.Logged(5104));
        Assert.Equal(1, failures["epoll"]);

        // Round-robin would hand every other connection to the dead loop: they are served by the live one.
        for (var i = 0; i < 4; i++)
        {
            var client = await harness.ConnectClientAsync();
            await client.SendAsync(new byte[] { (byte)i }, SocketFlags.None);
            Assert.Equal(new[] { (byte)i }, await EpollHarness.ReceiveAsync(client, 1));
        }
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
