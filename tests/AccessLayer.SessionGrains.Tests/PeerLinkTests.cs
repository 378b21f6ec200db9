using System.Net;
using System.Net.Sockets;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Mlp;
using AccessLayer.SessionGrains.Nodes;
using AccessLayer.SessionGrains.Routes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>
/// The forward channel to one peer, against a real <see cref="ForwardListener"/> on loopback: batches go over the
/// link when the peer advertises one, as grain calls when it does not or cannot be reached, and the link is tried
/// again a second (of the fake clock) later.
/// </summary>
public sealed class PeerLinkTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly PeerNode _peer = new();
    private readonly List<byte[]> _linked = [];
    private ForwardListener? _listener;
    private Task _hold = Task.CompletedTask;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }
    }

    [Fact]
    public async Task Batches_go_over_the_link_in_order_and_not_as_grain_calls()
    {
        _peer.Endpoint = Listen(0);
        await using var link = new PeerLink("peer", _peer, "fleet", _time, NullLogger.Instance);

        for (var i = 0; i < 50; i++)
        {
            await link.SendAsync(Frame([(byte)i, 7]), CancellationToken.None);
        }

        Assert.True(link.IsLinked);
        await Eventually(() => Linked().Count == 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => new byte[] { (byte)i, 7 }), Linked());
        Assert.Empty(_peer.Calls);
    }

    [Fact]
    public async Task A_peer_that_advertises_no_link_gets_its_batches_as_grain_calls()
    {
        await using var link = new PeerLink("peer", _peer, "fleet", _time, NullLogger.Instance);

        await link.SendAsync(Frame([1, 2]), CancellationToken.None);

        Assert.False(link.IsLinked);
        Assert.Equal([[1, 2]], _peer.Calls);
    }

    [Fact]
    public async Task An_unreachable_link_falls_back_to_grain_calls_and_is_tried_again_a_second_later()
    {
        var port = FreePort();
        _peer.Endpoint = $"127.0.0.1:{port}";
        await using var link = new PeerLink("peer", _peer, "fleet", _time, NullLogger.Instance);

        await link.SendAsync(Frame([1]), CancellationToken.None);
        Listen(port);
        _time.Advance(TimeSpan.FromMilliseconds(900));
        await link.SendAsync(Frame([2]), CancellationToken.None);
        Assert.False(link.IsLinked);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        await link.SendAsync(Frame([3]), CancellationToken.None);

        Assert.True(link.IsLinked);
        Assert.Equal([[1], [2]], _peer.Calls);
        await Eventually(() => Linked().Count == 1);
        Assert.Equal([[3]], Linked());
    }

    [Fact]
    public async Task A_batch_past_the_window_waits_for_the_first_answer()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = release.Task;
        _peer.Endpoint = Listen(0);
        await using var link = new PeerLink("peer", _peer, "fleet", _time, NullLogger.Instance, windowBytes: TwoFrames);

        await link.SendAsync(Frame([1]), CancellationToken.None);
        await link.SendAsync(Frame([2]), CancellationToken.None);
        var third = link.SendAsync(Frame([3]), CancellationToken.None).AsTask();
        await Eventually(() => Linked().Count == 1);
        await Task.Delay(200);
        Assert.False(third.IsCompleted);

        release.SetResult();
        await third;
        await Eventually(() => Linked().Count == 3);
        Assert.Equal([[1], [2], [3]], Linked());
    }

    [Fact]
    public async Task A_batch_waiting_for_room_when_the_link_dies_goes_as_a_grain_call()
    {
        using var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen();
        _peer.Endpoint = $"127.0.0.1:{((IPEndPoint)server.LocalEndPoint!).Port}";
        await using var link = new PeerLink("peer", _peer, "fleet", _time, NullLogger.Instance, windowBytes: TwoFrames);

        await link.SendAsync(Frame([1]), CancellationToken.None);
        await link.SendAsync(Frame([2]), CancellationToken.None);
        var third = link.SendAsync(Frame([3]), CancellationToken.None).AsTask();
        using (var accepted = await server.AcceptAsync())
        {
            // A peer that never answers, then goes away.
            Assert.False(third.IsCompleted);
        }

        await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(link.IsLinked);
        Assert.Equal([[3]], _peer.Calls);
    }

    [Fact]
    public async Task Small_batches_flow_while_a_slow_answer_is_outstanding()
    {
        // The peer holds its first answer: with the default window, dozens of small batches still go out behind it.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = release.Task;
        _peer.Endpoint = Listen(0);
        await using var link = new PeerLink("peer", _peer, "fleet", _time, NullLogger.Instance);

        try
        {
            for (byte i = 1; i <= 40; i++)
            {
                await link.SendAsync(Frame([i]), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            // Else the listener's delivery, and with it this test's cleanup, would wait forever.
            release.TrySetResult();
        }

        await Eventually(() => Linked().Count == 40);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => new[] { (byte)i }), Linked());
    }

    // Two one-byte batches with their headers fit, a third does not.
    private const long TwoFrames = 2 * (ForwardFrames.HeaderSize + 1);

    private static Memory<byte> Frame(byte[] batch) => (byte[])[.. new byte[ForwardFrames.HeaderSize], .. batch];

    private static int FreePort()
    {
        using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 10 s");
            await Task.Delay(10);
        }
    }

    private string Listen(int port)
    {
        _listener = new ForwardListener(IPAddress.Loopback, port, "fleet", batch =>
        {
            lock (_linked)
            {
                _linked.Add(batch.ToArray());
            }

            return _hold;
        }, NullLogger.Instance);
        _listener.Start();
        return _listener.Endpoint;
    }

    private List<byte[]> Linked()
    {
        lock (_linked)
        {
            return [.. _linked];
        }
    }

    /// <summary>The peer's node grain as a link sees it: what it advertises, and the batches it got as calls.</summary>
    private sealed class PeerNode : INodeGrain
    {
        public string? Endpoint { get; set; }

        public List<byte[]> Calls { get; } = [];

        public Task<NodeInfo> GetInfoAsync() => Task.FromResult(new NodeInfo("peer", null, null, 0, 0, false, 0, Endpoint));

        public Task DeliverAsync(byte[] batch)
        {
            Calls.Add(batch);
            return Task.CompletedTask;
        }

        public Task ApplyRoutesAsync(RouteUpdate update) => throw new NotSupportedException();

        public Task<byte[]?> HandOverSessionAsync(string clientId, long epoch) => throw new NotSupportedException();

        public Task FlushDurableAsync() => throw new NotSupportedException();

        public Task<byte[]> GetRetainedAsync() => throw new NotSupportedException();

        public Task<MlpPushReply> PushMlpAsync(string deviceId, byte[] push, bool sequenced) => throw new NotSupportedException();

        public Task<byte[]?> HandOverMlpAsync(string deviceId, long epoch) => throw new NotSupportedException();

        public Task PullMlpAsync(string deviceId) => throw new NotSupportedException();

        public Task<NodeStats> GetStatsAsync(DateTimeOffset since) => throw new NotSupportedException();

        public Task<NodeDrainStatus> DrainAsync(NodeDrainCommand command) => throw new NotSupportedException();
    }
}
