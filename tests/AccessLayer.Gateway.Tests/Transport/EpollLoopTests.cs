using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Transport.Epoll;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class EpollLoopTests
{
    private sealed class Handler(bool throws) : IEpollHandler
    {
        private int _events;

        public ulong EpollToken { get; set; }

        public TaskCompletionSource Readable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Events => Volatile.Read(ref _events);

        public void OnEvents(uint events)
        {
            Interlocked.Increment(ref _events);
            if ((events & LinuxNative.EpollIn) != 0)
            {
                Readable.TrySetResult();
            }

            if (throws)
            {
                throw new InvalidOperationException("handler bug");
            }
        }
    }

    private static async Task<(Socket Client, Socket Server)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        return (client, await listener.AcceptAsync());
    }

    [Fact]
    public async Task A_handler_that_throws_does_not_stop_the_loop_for_other_connections()
    {
        await using var harness = EpollHarness.Start(loops: 1, inline: true);
        using var loop = new EpollLoop(harness.Engine, 99);
        var (badClient, badServer) = await PairAsync();
        var (goodClient, goodServer) = await PairAsync();
        using (badClient)
        using (badServer)
        using (goodClient)
        using (goodServer)
        {
            var bad = new Handler(throws: true);
            var good = new Handler(throws: false);
            Assert.Equal(0, loop.Register((int)badServer.Handle, bad));
            await badClient.SendAsync(new byte[] { 1 });
            await bad.Readable.Task.WaitAsync(EpollHarness.Timeout);
            Assert.True(bad.Events > 0);
            Assert.Equal(0, loop.Register((int)goodServer.Handle, good));
            await goodClient.SendAsync(new byte[] { 2 });
            await good.Readable.Task.WaitAsync(EpollHarness.Timeout);
            loop.Unregister(bad);
            loop.Unregister(good);
        }
    }
}
