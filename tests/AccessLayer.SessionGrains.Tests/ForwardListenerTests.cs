using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>
/// A node's end of the forward links, over real loopback sockets: batches delivered in order, the next one read only
/// after the previous one was delivered, and a connection that is not one of this fleet's links closed without a delivery.
/// </summary>
public sealed class ForwardListenerTests : IAsyncLifetime
{
    private readonly List<byte[]> _delivered = [];
    private readonly List<string?> _threads = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private Func<Task> _holdDelivery = () => Task.CompletedTask;
    private ForwardListener _listener = null!;

    public Task InitializeAsync()
    {
        _listener = new ForwardListener(IPAddress.Loopback, 0, "fleet", async batch =>
        {
            lock (_delivered)
            {
                _delivered.Add(batch.ToArray());
                _threads.Add(Thread.CurrentThread.Name);
            }

            _arrived.Release();
            await _holdDelivery();
        }, NullLogger.Instance);
        _listener.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        _arrived.Dispose();
    }

    [Fact]
    public async Task Batches_arrive_whole_and_in_order_including_one_larger_than_the_read_buffer()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, ForwardFrames.EncodeHello("fleet"));
        byte[][] batches = [[1], Pattern(1 << 20), [2, 3], []];
        foreach (var batch in batches)
        {
            await SendAsync(socket, Frame(batch));
        }

        await WaitForAsync(batches.Length);
        Assert.Equal(batches, Delivered());
    }

    [Fact]
    public async Task A_link_is_read_and_delivered_on_a_thread_of_its_own()
    {
        // The kernel wakes the link's thread, which delivers: no hop through the runtime's socket thread and the pool.
        using var socket = await ConnectAsync();
        await SendAsync(socket, ForwardFrames.EncodeHello("fleet"));
        await SendAsync(socket, Frame([1]));
        await SendAsync(socket, Frame([2]));

        await WaitForAsync(2);
        lock (_delivered)
        {
            Assert.Equal(["fleet-link-in", "fleet-link-in"], _threads);
        }
    }

    [Fact]
    public async Task The_next_batch_is_delivered_only_after_the_previous_delivery_finished()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holdDelivery = () => release.Task;
        using var socket = await ConnectAsync();
        await SendAsync(socket, [.. ForwardFrames.EncodeHello("fleet"), .. Frame([1]), .. Frame([2])]);

        await WaitForAsync(1);
        Assert.False(await _arrived.WaitAsync(TimeSpan.FromMilliseconds(300)));
        _holdDelivery = () => Task.CompletedTask;
        release.SetResult();
        await WaitForAsync(1);
        Assert.Equal([[1], [2]], Delivered());
    }

    [Fact]
    public async Task Each_delivered_batch_is_answered_with_one_byte()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, [.. ForwardFrames.EncodeHello("fleet"), .. Frame([1]), .. Frame([2]), .. Frame([3])]);

        var answers = new List<byte>();
        var buffer = new byte[8];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (answers.Count < 3)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.True(read > 0, "the link closed");
            answers.AddRange(buffer.AsSpan(0, read));
        }

        Assert.Equal([ForwardFrames.Answer, ForwardFrames.Answer, ForwardFrames.Answer], answers);
        Assert.Equal(3, Delivered().Count);
    }

    [Fact]
    public async Task A_hello_of_another_cluster_is_closed_without_a_delivery()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, [.. ForwardFrames.EncodeHello("other"), .. Frame([1])]);

        Assert.Equal(0, await ReceiveUntilClosedAsync(socket));
        Assert.Empty(Delivered());
    }

    [Fact]
    public async Task A_frame_over_the_limit_is_closed_from_its_header_without_a_delivery()
    {
        using var socket = await ConnectAsync();
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, uint.MaxValue);
        await SendAsync(socket, [.. ForwardFrames.EncodeHello("fleet"), .. header]);

        Assert.Equal(0, await ReceiveUntilClosedAsync(socket));
        Assert.Empty(Delivered());
    }

    [Fact]
    public async Task Bytes_that_are_not_a_link_are_closed()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, "GET / HTTP/1.1\r\n\r\n"u8.ToArray());

        Assert.Equal(0, await ReceiveUntilClosedAsync(socket));
        Assert.Empty(Delivered());
    }

    internal static byte[] Frame(byte[] batch)
    {
        var frame = new byte[ForwardFrames.HeaderSize + batch.Length];
        batch.CopyTo(frame, ForwardFrames.HeaderSize);
        ForwardFrames.WriteHeader(frame);
        return frame;
    }

    private static byte[] Pattern(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31))];

    private static async Task SendAsync(Socket socket, byte[] bytes)
    {
        for (var sent = 0; sent < bytes.Length;)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    private static async Task<int> ReceiveUntilClosedAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[16];
        int read;
        var total = 0;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            total += read;
        }

        return total;
    }

    private async Task<Socket> ConnectAsync()
    {
        Assert.True(FleetEndpoint.TryParse(_listener.Endpoint, out var host, out var port));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host, port);
        return socket;
    }

    private async Task WaitForAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(10)), "a batch did not arrive");
        }
    }

    private List<byte[]> Delivered()
    {
        lock (_delivered)
        {
            return [.. _delivered];
        }
    }
}
